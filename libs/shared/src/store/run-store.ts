import type { Redis } from 'ioredis';
import type { z } from 'zod';
import type { GoalRequest } from '../contracts/goal-request.js';
import { RunEvent, type StoredRunEvent } from '../contracts/run-events.js';
import {
  RUN_SCHEMA_VERSION,
  type RunError,
  type RunPhase,
  RunRecord,
  type RunStatus,
  type TerminalStatus,
  type Usage,
} from '../contracts/run-record.js';
import { scrubCredentials } from '../errors/scrub-credentials.js';
import { TriadError } from '../errors/triad-error.js';
import { type BudgetLimit, budgetMessage } from '../runs/budget.js';
import { triadMetrics } from '../telemetry/triad-metrics.js';
import { type LuaCommand, luaCommand } from './lua-command.js';
import { RunKeys } from './run-keys.js';
import { ADMIT, CREATE_RUN, FINISH, ONCE, TRANSITION } from './run-store.scripts.js';

type Fields = Record<string, string | number>;
/** An event before the store stamps it; `at` defaults to now. */
export type NewRunEvent = RunEvent extends infer E
  ? E extends RunEvent
    ? Omit<E, 'at'> & { at?: number }
    : never
  : never;

// Lua's cjson turns big numbers into floats (1.7e+12): send every field as a string.
const encodeFields = (fields: Fields) =>
  JSON.stringify(Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, String(v)])));

const USAGE_FIELDS = ['inputTokens', 'outputTokens', 'modelCalls', 'toolCalls', 'costUsd'] as const;

/** Whether a step may start: admitted, refused because the run has ended, or refused by a used-up budget limit. */
export type Admission =
  | { admitted: true }
  | { admitted: false; ended: RunStatus | 'gone' }
  | { admitted: false; limit: BudgetLimit; message: string };

/** The run record and its append-only event stream in Redis; every state change is a compare-and-set. */
export class RunStore {
  readonly keys: RunKeys;
  private readonly lua: Record<'createRun' | 'transition' | 'finish' | 'once' | 'admit', LuaCommand>;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.keys = new RunKeys(prefix);
    this.lua = {
      createRun: luaCommand(redis, 'triad_createRun', 3, CREATE_RUN),
      transition: luaCommand(redis, 'triad_transition', 2, TRANSITION),
      finish: luaCommand(redis, 'triad_finish', 2, FINISH),
      once: luaCommand(redis, 'triad_once', 3, ONCE),
      admit: luaCommand(redis, 'triad_admit', 2, ADMIT),
    };
  }

  /** Creates a running run at iteration 1; returns false (and changes nothing) if the id exists. */
  async create(id: string, request: GoalRequest, now = Date.now(), traceparent?: string): Promise<boolean> {
    const fields: Fields = { ...this.baseFields(id, now), status: 'running', request: JSON.stringify(request) };
    if (traceparent) fields.traceparent = traceparent;
    const events: NewRunEvent[] = [
      { type: 'goal.received', iteration: 0, request },
      { type: 'status.changed', iteration: 0, from: null, to: 'running', reason: null },
    ];
    return this.createWith(id, fields, events, now);
  }

  /** Records a goal that could not be accepted as a failed run, so it never vanishes silently. */
  async createRejected(id: string, rejection: RunError, now = Date.now()): Promise<boolean> {
    const error = scrubbedError(rejection);
    const fields: Fields = {
      ...this.baseFields(id, now),
      status: 'failed',
      phase: 'done',
      finishedAt: now,
      error: JSON.stringify(error),
    };
    const events: NewRunEvent[] = [
      { type: 'goal.rejected', iteration: 0, error },
      { type: 'status.changed', iteration: 0, from: null, to: 'failed', reason: error.message },
    ];
    return this.createWith(id, fields, events, now);
  }

  /** The run, or null when there is none. */
  async get(id: string): Promise<RunRecord | null> {
    const h = await this.redis.hgetall(this.keys.run(id));
    if (!h.id) return null;
    const usage = Object.fromEntries(USAGE_FIELDS.map((f) => [f, Number(h[`usage.${f}`] ?? 0)])) as Usage;
    const parsed = RunRecord.safeParse({
      schemaVersion: Number(h.schemaVersion),
      id: h.id,
      status: h.status,
      phase: h.phase,
      iteration: Number(h.iteration),
      request: h.request ? JSON.parse(h.request) : null,
      usage,
      createdAt: Number(h.createdAt),
      updatedAt: Number(h.updatedAt),
      finishedAt: h.finishedAt ? Number(h.finishedAt) : null,
      answer: h.answer ?? null,
      error: h.error ? JSON.parse(h.error) : null,
      ...(h.traceparent ? { traceparent: h.traceparent } : {}),
    });
    if (!parsed.success) throw new TriadError('internal_error', `run ${id} is corrupt: ${parsed.error.message}`, false);
    return parsed.data;
  }

  /** Moves a running run from (iteration, phase) to a new position; false if it was not there. */
  async transition(
    id: string,
    from: { iteration: number; phase: RunPhase },
    to: { iteration?: number; phase: RunPhase },
    events: NewRunEvent[] = [],
  ): Promise<boolean> {
    const fields: Fields = { phase: to.phase, updatedAt: Date.now() };
    if (to.iteration !== undefined) fields.iteration = to.iteration;
    const res = await this.lua.transition(
      this.keys.run(id),
      this.keys.events(id),
      encodeFields(fields),
      this.encodeEvents(events),
      String(from.iteration),
      from.phase,
    );
    return res === 1;
  }

  /** Ends a running run; false if it had already ended (the first ending wins). */
  async finish(
    id: string,
    end: { status: TerminalStatus; iteration: number; answer?: string | null; error?: RunError | null; reason: string },
  ): Promise<boolean> {
    const now = Date.now();
    const fields: Fields = { status: end.status, phase: 'done', finishedAt: now, updatedAt: now };
    if (end.answer != null) fields.answer = end.answer;
    if (end.error) fields.error = JSON.stringify(scrubbedError(end.error));
    const event: NewRunEvent = {
      type: 'status.changed',
      iteration: end.iteration,
      from: 'running',
      to: end.status,
      reason: scrubCredentials(end.reason),
    };
    const res = await this.lua.finish(
      this.keys.run(id),
      this.keys.events(id),
      encodeFields(fields),
      this.encodeEvents([event]),
    );
    if (res === 1) triadMetrics.runFinished(end.status);
    return res === 1;
  }

  /**
   * Records `value` under `key` for this run exactly once, appending its events and adding its usage in the
   * same atomic step. Returns the value that won (this one, or the one recorded before).
   */
  async once<S extends z.ZodType>(
    runId: string,
    key: string,
    schema: S,
    value: z.infer<S>,
    events: NewRunEvent[] = [],
    usage: Partial<Usage> = {},
  ): Promise<{ value: z.infer<S>; recorded: boolean }> {
    const parsed = schema.parse(value);
    const json = JSON.stringify(parsed);
    const [recorded, winner] = (await this.lua.once(
      this.keys.once(runId, key),
      this.keys.run(runId),
      this.keys.events(runId),
      json,
      this.encodeEvents(events),
      JSON.stringify(usage),
      String(Date.now()),
    )) as [number, string?];
    // The winner has its value already; only a loser gets the recorded one back, to parse.
    if (recorded === 1) return { value: parsed, recorded: true };
    return { value: schema.parse(JSON.parse(winner as string)), recorded: false };
  }

  /**
   * Admits one step of a running run against its budget, atomically across every replica: a `tool` step reserves
   * one of maxToolCalls, once per step id (a redelivery keeps it); a `model` step reserves nothing and is checked
   * again at every delivery, refused once tokens, cost or time are used up. With `reserve: false` it only checks.
   */
  async admit(
    runId: string,
    stepId: string,
    kind: 'tool' | 'model',
    opts: { reserve?: boolean; now?: number } = {},
  ): Promise<Admission> {
    const [ok, reason, used, max] = (await this.lua.admit(
      this.keys.run(runId),
      this.keys.admitted(runId),
      stepId,
      kind,
      String(opts.now ?? Date.now()),
      opts.reserve === false ? '0' : '1',
    )) as [number, string, string?, string?];
    if (ok === 1) return { admitted: true };
    if (reason === 'ended') return { admitted: false, ended: used as RunStatus | 'gone' };
    const limit = reason as BudgetLimit;
    return { admitted: false, limit, message: budgetMessage(limit, Number(used), Number(max)) };
  }

  /** The value recorded under `key`, or null. */
  async getOnce<S extends z.ZodType>(runId: string, key: string, schema: S): Promise<z.infer<S> | null> {
    const raw = await this.redis.get(this.keys.once(runId, key));
    return raw === null ? null : schema.parse(JSON.parse(raw));
  }

  /** Events after `afterId` (exclusive; '0' for all), oldest first. */
  async events(runId: string, afterId = '0', count = 10_000): Promise<StoredRunEvent[]> {
    const start = afterId === '0' ? '-' : `(${afterId}`;
    const rows = await this.redis.xrange(this.keys.events(runId), start, '+', 'COUNT', count);
    return rows.map(([id, fields]) => this.decodeEvent(id, fields));
  }

  /** Waits up to `blockMs` for events after `afterId`. Needs a connection of its own: XREAD blocks it. */
  async waitForEvents(blocking: Redis, runId: string, afterId: string, blockMs: number): Promise<StoredRunEvent[]> {
    const res = await blocking.xread('COUNT', 1000, 'BLOCK', blockMs, 'STREAMS', this.keys.events(runId), afterId);
    if (!res) return [];
    return res[0][1].map(([id, fields]) => this.decodeEvent(id, fields));
  }

  /** Run ids, newest first. */
  async list(offset = 0, limit = 50): Promise<string[]> {
    return this.redis.zrevrange(this.keys.index(), offset, offset + limit - 1);
  }

  private async createWith(id: string, fields: Fields, events: NewRunEvent[], now: number): Promise<boolean> {
    const res = await this.lua.createRun(
      this.keys.run(id),
      this.keys.events(id),
      this.keys.index(),
      encodeFields(fields),
      this.encodeEvents(events, now),
      String(now),
      id,
    );
    return res === 1;
  }

  private baseFields(id: string, now: number): Fields {
    return { schemaVersion: RUN_SCHEMA_VERSION, id, phase: 'plan', iteration: 1, createdAt: now, updatedAt: now };
  }

  private encodeEvents(events: NewRunEvent[], now = Date.now()): string {
    const encoded = events.map((e) => JSON.stringify(RunEvent.parse({ at: now, ...e })));
    // cjson encodes an empty Lua table as {}, so an empty list is sent as a literal array.
    return encoded.length ? JSON.stringify(encoded) : '[]';
  }

  private decodeEvent(id: string, fields: string[]): StoredRunEvent {
    const raw = fields[fields.indexOf('e') + 1];
    const parsed = RunEvent.safeParse(JSON.parse(raw ?? 'null'));
    if (!parsed.success)
      throw new TriadError('internal_error', `event ${id} is corrupt: ${parsed.error.message}`, false);
    return { ...parsed.data, id };
  }
}

// Run errors are read by every read key and sent with results and webhooks: never with a credential in them.
const scrubbedError = (error: RunError): RunError => ({ ...error, message: scrubCredentials(error.message) });
