import { AsyncLocalStorage } from 'node:async_hooks';
import { splitStoreRunId } from '@triad/contracts';
import { type TriadConfig, tenantLimits } from '../config/triad-config.js';
import { TenantLimitError, TenantSpendBusyError } from '../errors/triad-error.js';
import { modelCostUsd } from '../runs/budget.js';
import { hasSpendCap, type TenantUsageStore } from '../store/tenant-usage-store.js';
import type { ChatReply, ChatRequest, ReasoningModel } from './chat.js';

/** The stage a model call is made for: it names the call's reservation, so a redelivered stage reserves once. */
interface SpendScope {
  runId: string;
  /**
   * `plan`, `judge`, `act:<stepId>` (a tool that asks the model, as self_check does), or `distill` (the judge
   * distilling lessons from the ended run).
   */
  stage: 'plan' | 'judge' | 'distill' | `act:${string}`;
  iteration: number;
  calls: number;
}

const scope = new AsyncLocalStorage<SpendScope>();

/** Runs a stage's work with its model calls charged to the run's tenant (see SpendCappedModel). */
export function withSpendScope<T>(s: Omit<SpendScope, 'calls'>, fn: () => Promise<T>): Promise<T> {
  return scope.run({ ...s, calls: 0 }, fn);
}

/** Reservations outlive a call's worst case (every attempt timing out) by this much before others may release them. */
const RESERVATION_SLACK_MS = 60_000;

/**
 * An upper bound of a call's tokens: a token is at least one byte, so the UTF-8 bytes of what is sent (messages,
 * tool schemas, response schema) bound its input; its output is at most `maxOutputTokens`.
 */
export function callTokenBound(req: ChatRequest, maxOutputTokens: number): { input: number; output: number } {
  const sent = JSON.stringify([req.messages, req.tools ?? [], req.jsonSchema ?? null]);
  return { input: Buffer.byteLength(sent, 'utf8'), output: maxOutputTokens };
}

/**
 * A ReasoningModel that holds each call of a run under a tenant spend cap to it: before the call it reserves an upper
 * bound of the call's tokens and cost on the tenant's day (refused: TenantLimitError, the run ends budget_exceeded;
 * refused only because of calls in flight: TenantSpendBusyError, the stage waits and tries again);
 * after it, replied or failed, it settles what was used. Calls outside a stage scope, and tenants without a cap, go
 * straight through without a Redis round trip.
 */
export class SpendCappedModel implements ReasoningModel {
  constructor(
    private readonly inner: ReasoningModel,
    private readonly usage: TenantUsageStore,
    private readonly config: Pick<TriadConfig, 'tenantLimits' | 'model'>,
  ) {}

  async chat(req: ChatRequest): Promise<ChatReply> {
    const s = scope.getStore();
    if (!s) return this.inner.chat(req);
    const { tenant } = splitStoreRunId(s.runId);
    const caps = tenantLimits(this.config, tenant);
    if (!hasSpendCap(caps)) return this.inner.chat(req);

    const { prices, maxOutputTokens, timeoutMs, maxRetries } = this.config.model;
    const bound = callTokenBound(req, maxOutputTokens);
    const costUsd = (model: string, input: number, output: number) =>
      modelCostUsd(prices, { requested: req.model, replied: model }, { inputTokens: input, outputTokens: output });
    const id = `${s.runId}/${s.stage}:${s.iteration}#${s.calls++}`;
    const now = Date.now();
    const reservation = await this.usage.reserve(
      tenant,
      id,
      { tokens: bound.input + bound.output, costUsd: costUsd(req.model, bound.input, bound.output) },
      caps,
      now,
      now + timeoutMs * (maxRetries + 1) + RESERVATION_SLACK_MS,
    );
    if (!reservation.reserved) {
      s.calls--; // nothing is held under this id: the stage's next try reuses it
      throw reservation.exhausted
        ? new TenantLimitError(reservation.message)
        : new TenantSpendBusyError(reservation.message);
    }
    let used = { tokens: 0, costUsd: 0 };
    try {
      const reply = await this.inner.chat({ ...req, maxOutputTokens });
      used = {
        tokens: reply.inputTokens + reply.outputTokens,
        costUsd: costUsd(reply.model, reply.inputTokens, reply.outputTokens),
      };
      return reply;
    } finally {
      await this.usage.settle(tenant, id, reservation.day, used);
    }
  }
}
