import type { RunRecord } from '@triad/contracts';
import type { ModelPrices } from '../config/triad-config.js';

/**
 * The run-wide limits of a budget that stop a step before it starts; `RunStore.admit` checks them, atomically, before
 * every model and tool call. maxIterations is the judge's (it ends the last iteration).
 */
export type BudgetLimit = 'maxTokens' | 'maxCostUsd' | 'timeoutMs' | 'maxToolCalls';

/** How a used-up limit is reported, on the run and to the model: the limit's name first, then the figures. */
export function budgetMessage(limit: BudgetLimit, used: number, max: number): string {
  switch (limit) {
    case 'maxTokens':
      return `maxTokens: ${used} tokens used of ${max}`;
    case 'maxCostUsd':
      return `maxCostUsd: $${used.toFixed(6)} spent of $${max}`;
    case 'timeoutMs':
      return `timeoutMs: run older than ${max} ms`;
    case 'maxToolCalls':
      return `maxToolCalls: ${used} tool calls of ${max}`;
  }
}

/** The cost in USD of one model call, by the replying model's price, else the requested model's; 0 without one. */
export function modelCostUsd(
  prices: ModelPrices,
  models: { requested: string; replied: string },
  tokens: { inputTokens: number; outputTokens: number },
): number {
  const price = prices[models.replied] ?? prices[models.requested];
  if (!price) return 0;
  return (tokens.inputTokens * price.inputPerMTok + tokens.outputTokens * price.outputPerMTok) / 1_000_000;
}

/**
 * The limit a run has used up for a step of this kind, with the figures, or null. The same rule as `lua/admit.lua`
 * (which also reserves tool calls, atomically): a model call reserves nothing, so checking it against a snapshot of the
 * record (read in the stage's one round trip) is the same check the script would make.
 */
export function usedUpLimit(
  run: Pick<RunRecord, 'request' | 'usage' | 'createdAt'>,
  kind: 'tool' | 'model',
  now: number,
): { limit: BudgetLimit; used: number; max: number } | null {
  const budget = run.request?.budget;
  if (!budget) return null;
  const tokens = run.usage.inputTokens + run.usage.outputTokens;
  if (tokens >= budget.maxTokens) return { limit: 'maxTokens', used: tokens, max: budget.maxTokens };
  if (budget.maxCostUsd != null && run.usage.costUsd >= budget.maxCostUsd) {
    return { limit: 'maxCostUsd', used: run.usage.costUsd, max: budget.maxCostUsd };
  }
  const age = now - run.createdAt;
  if (age >= budget.timeoutMs) return { limit: 'timeoutMs', used: age, max: budget.timeoutMs };
  if (kind === 'tool' && run.usage.toolCalls >= budget.maxToolCalls) {
    return { limit: 'maxToolCalls', used: run.usage.toolCalls, max: budget.maxToolCalls };
  }
  return null;
}
