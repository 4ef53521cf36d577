import type { GoalRequest } from '@triad/contracts';
import {
  RUN_SCHEMA_VERSION,
  type RunError,
  RunEvent,
  type RunOutput,
  type RunPhase,
  RunRecord,
  type RunStatus,
  type StoredRunEvent,
  splitStoreRunId,
  type TerminalStatus,
  type Usage,
} from '@triad/contracts';
import type { z } from 'zod';
import { scrubCredentials } from '../errors/scrub-credentials.js';
import { TriadError } from '../errors/triad-error.js';
import type { RedisClient } from '../queue/redis-connection.js';
import { type BudgetLimit, budgetMessage, usedUpLimit } from '../runs/budget.js';
import { triadMetrics } from '../telemetry/triad-metrics.js';
import { type LuaCommand, luaCommand } from './lua-scripts.js';
import { TriadKeys } from './triad-keys.js';

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
  readonly keys: TriadKeys;
  private readonly lua: Record<
    'createRun' | 'finish' | 'retire' | 'once' | 'advance' | 'admit' | 'unqueue' | 'seed',
    LuaCommand
  >;
  /** Tenants this process has listed in keys.tenants() (the list only grows, so once per tenant is enough). */
  private readonly listedTenants = new Set<string>();

  constructor(
    private readonly redis: RedisClient,
    prefix: string,
  ) {
    this.keys = new TriadKeys(prefix);
    this.lua = {
      createRun: luaCommand(redis, 'create-run'),
      finish: luaCommand(redis, 'finish'),
      retire: luaCommand(redis, 'retire'),
      once: luaCommand(redis, 'once'),
      advance: luaCommand(redis, 'advance'),
      admit: luaCommand(redis, 'admit'),
      unqueue: luaCommand(redis, 'unqueue'),
      seed: luaCommand(redis, 'seed'),
    };
  }

  /**
   * Creates a running run at iteration 1; returns false (and changes nothing) if the id exists. A `queued` run (its
   * tenant has a cap on runs in flight) starts at phase `queued` and waits for a slot (see unqueue).
   */
  async create(
    id: string,
    request: GoalRequest,
    now = Date.now(),
    traceparent?: string,
    opts: { queued?: boolean } = {},
  ): Promise<boolean> {
    const fields: Fields = { ...this.baseFields(id, now), status: 'running', request: JSON.stringify(request) };
    if (opts.queued) fields.phase = 'queued';
    // Kept apart too, so lua/admit.lua decodes the budget, not the whole request, at every tool step.
    fields.budget = JSON.stringify(request.budget);
    if (traceparent) fields.traceparent = traceparent;
    const events: NewRunEvent[] = [
      { type: 'goal.received', iteration: 0, request },
      { type: 'status.changed', iteration: 0, from: null, to: 'running', reason: null },
    ];
    return this.createWith(id, fields, events, now);
  }

  /**
   * Moves a run given a slot from (1, queued) to (1, plan), once, with its events; returns whether this call moved it
   * and where the run is.
   */
  async unqueue(
    id: string,
    events: NewRunEvent[],
    now = Date.now(),
  ): Promise<{ moved: boolean; position: RunPosition }> {
    const reply = (await this.lua.unqueue(
      this.keys.run(id),
      this.keys.events(id),
      encodeFields({ phase: 'plan', updatedAt: now }),
      this.encodeEvents(events, now),
    )) as [number, string?, string?];
    if (reply[0] === 1) return { moved: true, position: { status: 'running', phase: 'plan' } };
    return {
      moved: false,
      position: { status: reply[1] as RunStatus | 'gone', phase: (reply[2] || null) as RunPhase },
    };
  }

  /**
   * Gives a run created at iteration 1 its history, once (see lua/seed.lua): `ledger` entries (each set if absent),
   * copied `events` (their own `at` kept), and `iteration`, where it starts. Returns whether this call seeded it.
   */
  async seed(
    id: string,
    seed: { ledger: Record<string, string>; events: NewRunEvent[]; iteration: number },
    now = Date.now(),
  ): Promise<boolean> {
    const ledger = Object.keys(seed.ledger).length ? JSON.stringify(seed.ledger) : '{}';
    const reply = await this.lua.seed(
      this.keys.run(id),
      this.keys.events(id),
      this.keys.once(id),
      ledger,
      this.encodeEvents(seed.events, now),
      encodeFields({ iteration: seed.iteration, updatedAt: now }),
    );
    return reply === 1;
  }

  /** Every value of a run's ledger (raw JSON by name: `plan:<i>`, `step:<stepId>`, `verdict:<i>`). */
  ledger(id: string): Promise<Record<string, string>> {
    return this.redis.hgetall(this.keys.once(id));
  }

  /** Where a run is (its status and phase, 'gone' when there is none), without reading its request. */
  async position(id: string): Promise<RunPosition & { iteration: number; createdAt: number }> {
    const [status, phase, iteration, createdAt] = await this.redis.hmget(
      this.keys.run(id),
      'status',
      'phase',
      'iteration',
      'createdAt',
    );
    return {
      status: (status ?? 'gone') as RunStatus | 'gone',
      phase: (phase ?? null) as RunPhase | null,
      iteration: Number(iteration ?? 0),
      createdAt: Number(createdAt ?? 0),
    };
  }

  /** Appends events to a run's stream (informational events outside any state change). */
  async note(id: string, events: NewRunEvent[], now = Date.now()): Promise<void> {
    const p = this.redis.pipeline();
    for (const e of events) p.xadd(this.keys.events(id), '*', 'e', JSON.stringify(RunEvent.parse({ at: now, ...e })));
    await p.exec();
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
    return decodeRecord(id, await this.redis.hgetall(this.keys.run(id)));
  }

  /**
   * What a stage needs, in one round trip: the run, the values recorded once under `once` names (raw JSON, or null),
   * with `events` the run's events, and with `admitModel` the admission of a model call, checked against the record
   * just read (a model call reserves nothing, so this is the check lua/admit.lua makes).
   */
  async read(
    id: string,
    opts: { once?: string[]; events?: boolean; admitModel?: boolean; now?: number } = {},
  ): Promise<StageRead> {
    const once = opts.once ?? [];
    const p = this.redis.pipeline().hgetall(this.keys.run(id));
    for (const name of once) p.hget(this.keys.once(id), name);
    if (opts.events) p.xrange(this.keys.events(id), '-', '+', 'COUNT', MAX_EVENTS_READ);
    const replies = (await p.exec()) ?? [];
    const value = (i: number) => {
      const [err, v] = replies[i] ?? [new Error('no reply')];
      if (err) throw err;
      return v;
    };
    const run = decodeRecord(id, value(0) as Record<string, string>);
    const recorded: Record<string, string | null> = {};
    once.forEach((name, i) => {
      recorded[name] = value(i + 1) as string | null;
    });
    const events = opts.events
      ? (value(once.length + 1) as [string, string[]][]).map(([eid, fields]) => decodeEvent(eid, fields))
      : [];
    const admission = opts.admitModel ? modelAdmission(run, opts.now ?? Date.now()) : null;
    return { run, once: recorded, events, admission };
  }

  /**
   * A stage's whole write, atomically (see lua/advance.lua): records `value` under the `once` name with its events
   * and usage, then moves the run from `from` to `to` (fields set, events appended), or ends it with `finish`.
   */
  async advance(id: string, step: AdvanceStep): Promise<AdvanceOutcome> {
    const now = Date.now();
    const move = 'finish' in step ? this.finishWrite(step.finish, now) : this.moveWrite(step.to, now);
    const reply = (await this.lua.advance(
      this.keys.once(id),
      this.keys.run(id),
      this.keys.events(id),
      step.value,
      this.encodeEvents(step.events ?? [], now),
      JSON.stringify(step.usage ?? {}),
      String(now),
      String(step.from.iteration),
      step.from.phases.join(','),
      'finish' in step ? 'finish' : 'move',
      encodeFields(move.fields),
      this.encodeEvents(move.events, now),
      step.once,
    )) as [number, string, ...unknown[]];
    const [recorded, outcome, a, b] = reply;
    switch (outcome) {
      case 'lost':
        return { recorded: false, outcome, winner: a as string };
      case 'ended':
        return { recorded: recorded === 1, outcome, status: a as RunStatus | 'gone' };
      case 'elsewhere':
        return { recorded: recorded === 1, outcome, iteration: Number(a), phase: b as RunPhase };
      case 'finished': {
        if ('finish' in step) triadMetrics.runFinished(id, step.finish.status);
        const run = decodeRecord(id, pairsToHash(a as string[])) as RunRecord;
        return { recorded: recorded === 1, outcome, run };
      }
      default:
        return { recorded: recorded === 1, outcome: 'moved' };
    }
  }

  /** Ends a running run; returns the ended record, or null if it had ended before (the first ending wins). */
  async finish(id: string, end: RunEnd): Promise<RunRecord | null> {
    const { fields, events } = this.finishWrite(end, Date.now());
    const [ended, flat] = (await this.lua.finish(
      this.keys.run(id),
      this.keys.events(id),
      encodeFields(fields),
      this.encodeEvents(events),
    )) as [number, string[]?];
    if (ended !== 1) return null;
    triadMetrics.runFinished(id, end.status);
    return decodeRecord(id, pairsToHash(flat ?? []));
  }

  /**
   * Records `value` under `key` for this run exactly once, appending its events and adding its usage in the
   * same atomic step. Returns the value that won (this one, or the one recorded before). A run that is gone records
   * nothing (`recorded: false`, the value given): a late step never brings back a removed run's keys.
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
      this.keys.once(runId),
      this.keys.run(runId),
      this.keys.events(runId),
      json,
      this.encodeEvents(events),
      JSON.stringify(usage),
      String(Date.now()),
      key,
    )) as [number, string?];
    // The winner has its value already; only a loser gets the recorded one back, to parse.
    if (recorded === 1) return { value: parsed, recorded: true };
    // The run is gone (deleted, or its data removed): nothing was recorded, and nothing will be.
    if (recorded === -1) return { value: parsed, recorded: false };
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
    const reply = (await this.lua.admit(
      this.keys.run(runId),
      this.keys.admitted(runId),
      stepId,
      kind,
      String(opts.now ?? Date.now()),
      opts.reserve === false ? '0' : '1',
    )) as AdmitReply;
    return toAdmission(reply);
  }

  /** The value recorded under `key`, or null; typed by `schema`, which validated it when it was recorded. */
  async getOnce<S extends z.ZodType>(runId: string, key: string, _schema: S): Promise<z.infer<S> | null> {
    const raw = await this.redis.hget(this.keys.once(runId), key);
    return raw === null ? null : (JSON.parse(raw) as z.infer<S>);
  }

  /** Events after `afterId` (exclusive; '0' for all), oldest first. */
  async events(runId: string, afterId = '0', count = 10_000): Promise<StoredRunEvent[]> {
    const start = afterId === '0' ? '-' : `(${afterId}`;
    const rows = await this.redis.xrange(this.keys.events(runId), start, '+', 'COUNT', count);
    return rows.map(([id, fields]) => decodeEvent(id, fields));
  }

  /** Waits up to `blockMs` for events after `afterId`. Needs a connection of its own: XREAD blocks it. */
  async waitForEvents(
    blocking: RedisClient,
    runId: string,
    afterId: string,
    blockMs: number,
  ): Promise<StoredRunEvent[]> {
    const res = await blocking.xread('COUNT', 1000, 'BLOCK', blockMs, 'STREAMS', this.keys.events(runId), afterId);
    if (!res) return [];
    return res[0][1].map(([id, fields]) => decodeEvent(id, fields));
  }

  /**
   * An ended run's data (record, events, ledger, approvals, memory) expires after `ttlMs`, or goes at once with 0; its
   * index entry is left to the retention sweep (or removed by `remove`). Returns false, changing nothing, for a run
   * still running. Writes that come late (a racing duplicate stage) expire with the record (lua/lib.lua).
   */
  async retire(id: string, ttlMs: number): Promise<boolean> {
    return (await this.lua.retire(...this.keys.runKeys(id), String(Math.max(0, Math.round(ttlMs))))) === 1;
  }

  /** Deletes an ended run's data and its index entry at once; false (nothing changed) for a running run. */
  async remove(id: string): Promise<boolean> {
    if (!(await this.retire(id, 0))) return false;
    await this.redis.zrem(this.keys.index(splitStoreRunId(id).tenant), id);
    return true;
  }

  /** The ids, of those given, whose run is gone (expired or deleted). */
  async missing(ids: string[]): Promise<string[]> {
    // One command each, not a pipeline: on a Redis Cluster the runs' keys live in different slots.
    const exists = await Promise.all(ids.map((id) => this.redis.exists(this.keys.run(id))));
    return ids.filter((_, i) => exists[i] === 0);
  }

  /** A tenant's run store ids, newest first; an id may name a run that is gone (see createWith). */
  async list(tenant: string, offset = 0, limit = 50): Promise<string[]> {
    return this.redis.zrevrange(this.keys.index(tenant), offset, offset + limit - 1);
  }

  /**
   * The run's keys and its tenant's run index are in different slots on a Redis Cluster, so they are written by two
   * commands: the index entry first (NX: a run created before keeps its place), then the record. An entry can thus
   * exist a moment before its run (or, after a crash in between, until the goal's redelivery creates it): readers of
   * the index skip entries whose run is gone, as they do for expired runs. A run is never created outside the index.
   */
  private async createWith(id: string, fields: Fields, events: NewRunEvent[], now: number): Promise<boolean> {
    const { tenant } = splitStoreRunId(id);
    if (!this.listedTenants.has(tenant)) {
      await this.redis.sadd(this.keys.tenants(), tenant);
      this.listedTenants.add(tenant);
    }
    await this.redis.zadd(this.keys.index(tenant), 'NX', now, id);
    const res = await this.lua.createRun(
      this.keys.run(id),
      this.keys.events(id),
      encodeFields(fields),
      this.encodeEvents(events, now),
    );
    return res === 1;
  }

  private moveWrite(
    to: { iteration?: number; phase: RunPhase },
    now: number,
  ): { fields: Fields; events: NewRunEvent[] } {
    const fields: Fields = { phase: to.phase, updatedAt: now };
    if (to.iteration !== undefined) fields.iteration = to.iteration;
    return { fields, events: [] };
  }

  private finishWrite(end: RunEnd, now: number): { fields: Fields; events: NewRunEvent[] } {
    const fields: Fields = { status: end.status, phase: 'done', finishedAt: now, updatedAt: now };
    if (end.answer != null) fields.answer = end.answer;
    if (end.output != null) fields.output = JSON.stringify(end.output);
    if (end.error) fields.error = JSON.stringify(scrubbedError(end.error));
    const event: NewRunEvent = {
      type: 'status.changed',
      iteration: end.iteration,
      from: 'running',
      to: end.status,
      reason: scrubCredentials(end.reason),
    };
    return { fields, events: [event] };
  }

  private baseFields(id: string, now: number): Fields {
    return { schemaVersion: RUN_SCHEMA_VERSION, id, phase: 'plan', iteration: 1, createdAt: now, updatedAt: now };
  }

  private encodeEvents(events: NewRunEvent[], now = Date.now()): string {
    const encoded = events.map((e) => JSON.stringify(RunEvent.parse({ at: now, ...e })));
    // cjson encodes an empty Lua table as {}, so an empty list is sent as a literal array.
    return encoded.length ? JSON.stringify(encoded) : '[]';
  }
}

// Run errors are read by every read key and sent with results and webhooks: never with a credential in them.
const scrubbedError = (error: RunError): RunError => ({ ...error, message: scrubCredentials(error.message) });

/** How a run ends: its terminal status, the iteration it ended in, and the answer or error. */
export interface RunEnd {
  status: TerminalStatus;
  iteration: number;
  answer?: string | null;
  /** The typed result of a goal with an outputSchema. */
  output?: RunOutput | null;
  error?: RunError | null;
  reason: string;
}

/** A run's status and phase; `gone` (and no phase) when there is no such run. */
export interface RunPosition {
  status: RunStatus | 'gone';
  phase: RunPhase | null;
}

/** What a stage read in one round trip (see RunStore.read). */
export interface StageRead {
  run: RunRecord | null;
  /** Raw JSON recorded under each requested once name, or null. */
  once: Record<string, string | null>;
  events: StoredRunEvent[];
  admission: Admission | null;
}

/** A stage's write: its outcome recorded once, and where the run goes from where the stage found it. */
export type AdvanceStep = {
  once: string;
  /** The outcome's JSON, validated by its schema when the stage produced it. */
  value: string;
  events?: NewRunEvent[];
  usage?: Partial<Usage>;
  from: { iteration: number; phases: RunPhase[] };
} & ({ to: { iteration?: number; phase: RunPhase } } | { finish: RunEnd });

export type AdvanceOutcome =
  | { recorded: false; outcome: 'lost'; winner: string }
  | { recorded: boolean; outcome: 'ended'; status: RunStatus | 'gone' }
  | { recorded: boolean; outcome: 'elsewhere'; iteration: number; phase: RunPhase }
  | { recorded: boolean; outcome: 'moved' }
  | { recorded: boolean; outcome: 'finished'; run: RunRecord };

/** Most events a stage reads of one run. */
const MAX_EVENTS_READ = 10_000;

type AdmitReply = [number, string, string?, string?];

function modelAdmission(run: RunRecord | null, now: number): Admission {
  if (run?.status !== 'running') return { admitted: false, ended: run?.status ?? 'gone' };
  const used = usedUpLimit(run, 'model', now);
  return used
    ? { admitted: false, limit: used.limit, message: budgetMessage(used.limit, used.used, used.max) }
    : { admitted: true };
}

function toAdmission([ok, reason, used, max]: AdmitReply): Admission {
  if (ok === 1) return { admitted: true };
  if (reason === 'ended') return { admitted: false, ended: used as RunStatus | 'gone' };
  const limit = reason as BudgetLimit;
  return { admitted: false, limit, message: budgetMessage(limit, Number(used), Number(max)) };
}

function pairsToHash(flat: string[]): Record<string, string> {
  const h: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) h[flat[i] as string] = flat[i + 1] as string;
  return h;
}

/**
 * The record from its hash. It was validated field by field when written (the request at intake), so it is decoded,
 * not parsed again: only the schema version is checked, so a record of another version is never misread.
 */
function decodeRecord(id: string, h: Record<string, string>): RunRecord | null {
  if (!h.id) return null;
  if (Number(h.schemaVersion) !== RUN_SCHEMA_VERSION) {
    throw new TriadError(
      'internal_error',
      `run ${id} has schema version ${h.schemaVersion}, not ${RUN_SCHEMA_VERSION}`,
      false,
    );
  }
  const request = h.request ? (JSON.parse(h.request) as GoalRequest) : null;
  const usage = Object.fromEntries(USAGE_FIELDS.map((f) => [f, Number(h[`usage.${f}`] ?? 0)])) as Usage;
  return {
    schemaVersion: RUN_SCHEMA_VERSION,
    id: h.id,
    tenant: splitStoreRunId(h.id).tenant,
    status: h.status as RunStatus,
    phase: h.phase as RunPhase,
    iteration: Number(h.iteration),
    request,
    usage,
    createdAt: Number(h.createdAt),
    updatedAt: Number(h.updatedAt),
    finishedAt: h.finishedAt ? Number(h.finishedAt) : null,
    answer: h.answer ?? null,
    ...(h.output ? { output: JSON.parse(h.output) as RunOutput } : {}),
    error: h.error ? (JSON.parse(h.error) as RunError) : null,
    ...(h.traceparent ? { traceparent: h.traceparent } : {}),
    ...lineageOf(request),
  };
}

/** A fork's or a replay's parent, as its record shows it (from its request). */
function lineageOf(request: GoalRequest | null): Partial<Pick<RunRecord, 'forkOf' | 'replayOf'>> {
  if (request?.forkOf) return { forkOf: request.forkOf };
  if (request?.replayOf) return { replayOf: { runId: request.replayOf.runId } };
  return {};
}

/** An event as stored; validated when it was appended. */
function decodeEvent(id: string, fields: string[]): StoredRunEvent {
  const raw = fields[fields.indexOf('e') + 1];
  const event = JSON.parse(raw ?? 'null') as RunEvent | null;
  if (!event || typeof event !== 'object') throw new TriadError('internal_error', `event ${id} is corrupt`, false);
  return { ...event, id };
}
