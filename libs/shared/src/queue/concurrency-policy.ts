// How many jobs a worker process runs at once. Planner and judge jobs spend nearly all their time waiting on the
// model, executor jobs often on remote tools: what bounds them is not CPU but memory (each job holds a conversation,
// a request and a reply), the model's rate limit (BullMQ's limiter, in Redis) and how the process and Redis cope. So
// the ceiling comes from the heap, and the worker backs off below it while the process or Redis is under pressure.

export type WorkerRole = 'planner' | 'executor' | 'judge';

/** Share of the V8 heap limit that in-flight jobs may take; the rest is for the process itself and for garbage. */
export const JOB_HEAP_SHARE = 0.5;
/** No process runs more jobs at once than this, however large its heap: past it, add replicas. */
export const MAX_CONCURRENCY = 1_000;
/**
 * Backpressure never lowers a worker below a quarter of its ceiling, nor below this (unless the ceiling is lower).
 * A quarter because the pressure of a burst comes from jobs already taken: by the time they are done the backlog
 * may be gone, and a worker cut to a handful would then leave the CPU idle while the model thinks (measured: cut to
 * 15, a 1000-goal burst took 30 % longer; see docs/BENCHMARKS.md).
 */
export const MIN_CONCURRENCY = 8;
/** Heap use (of the limit) above which a worker backs off. */
export const HEAP_HIGH_SHARE = 0.8;

/** What a worker's concurrency may move between, and the pressure at which it backs off. */
export interface ConcurrencyPolicy {
  ceiling: number;
  floor: number;
  loopDelayHighMs: number;
  redisLatencyHighMs: number;
  heapHighShare: number;
}

/** What the process measured over the last window. */
export interface Pressure {
  /** Event-loop delay, 99th percentile, ms: high when the process is short of CPU. */
  loopDelayMs: number;
  /** Round trip of a PING on the worker's own Redis connection, ms: high when Redis or the connection is slow. */
  redisLatencyMs: number;
  /** Heap used / heap limit. */
  heapShare: number;
}

export interface PolicyInputs {
  role: WorkerRole;
  /** TRIAD_<ROLE>_CONCURRENCY when set: it replaces the memory-derived ceiling. */
  explicit: number | undefined;
  heapLimitBytes: number;
  /** Estimated heap one in-flight job holds (TRIAD_JOB_HEAP_KB). */
  jobHeapBytes: number;
  /** An executor job may hold a whole HTTP tool response (TRIAD_HTTP_MAX_BYTES) on top of the job itself. */
  toolResponseBytes: number;
  loopDelayHighMs: number;
  redisLatencyHighMs: number;
}

/** In-flight jobs the heap can hold: JOB_HEAP_SHARE of the limit over one job's cost, 1..MAX_CONCURRENCY. */
export function memoryCeiling(heapLimitBytes: number, jobBytes: number): number {
  const fits = Math.floor((heapLimitBytes * JOB_HEAP_SHARE) / Math.max(1, jobBytes));
  return Math.min(MAX_CONCURRENCY, Math.max(1, fits));
}

/** The policy of one worker: an explicit concurrency wins; otherwise the memory ceiling of its role's job cost. */
export function concurrencyPolicy(i: PolicyInputs): ConcurrencyPolicy {
  const jobBytes = i.jobHeapBytes + (i.role === 'executor' ? i.toolResponseBytes : 0);
  const ceiling = i.explicit ?? memoryCeiling(i.heapLimitBytes, jobBytes);
  return {
    ceiling,
    floor: Math.min(ceiling, Math.max(MIN_CONCURRENCY, Math.ceil(ceiling / 4))),
    loopDelayHighMs: i.loopDelayHighMs,
    redisLatencyHighMs: i.redisLatencyHighMs,
    heapHighShare: HEAP_HIGH_SHARE,
  };
}

/**
 * The next concurrency: halve while any pressure is above its mark (multiplicative decrease, so a struggling process
 * sheds load within a few windows), climb back by an eighth of the ceiling per window once all are below half their
 * mark (about eight windows from floor to ceiling), hold in between so it does not flap at the mark.
 */
export function nextConcurrency(current: number, p: Pressure, policy: ConcurrencyPolicy): number {
  const over = p.loopDelayMs > policy.loopDelayHighMs || p.redisLatencyMs > policy.redisLatencyHighMs;
  if (over || p.heapShare > policy.heapHighShare) return Math.max(policy.floor, Math.floor(current / 2));
  const calm =
    p.loopDelayMs <= policy.loopDelayHighMs / 2 &&
    p.redisLatencyMs <= policy.redisLatencyHighMs / 2 &&
    p.heapShare <= policy.heapHighShare * 0.75;
  if (calm) return Math.min(policy.ceiling, current + Math.max(1, Math.ceil(policy.ceiling / 8)));
  return Math.min(policy.ceiling, Math.max(policy.floor, current));
}
