import type { JobsOptions } from 'bullmq';

/** BullMQ's `removeOnComplete.age` / `removeOnFail.age` (whole seconds, at least 1) for a retention in ms. */
export const jobAgeSeconds = (retentionMs: number) => Math.max(1, Math.ceil(retentionMs / 1000));

/**
 * Default options of every job Triad adds: retries with backoff, a history kept as long as run data (and at most
 * 10 000 completed jobs a queue).
 */
export function defaultJobOptions(attempts: number, retentionMs: number): JobsOptions {
  const age = jobAgeSeconds(retentionMs);
  return {
    attempts,
    backoff: { type: 'exponential', delay: 1_000 },
    removeOnComplete: { age, count: 10_000 },
    removeOnFail: { age },
  };
}

// A worker that dies loses its jobs once their lock has expired (at most LOCK_DURATION_MS after its last renewal) and
// the next stalled check has run (at most STALLED_INTERVAL_MS later): 8 + 3 = 11 s at worst, inside the 15 s target
// (15 + 5 measured 19.8 s; see docs/BENCHMARKS.md). The price: BullMQ renews locks every LOCK_DURATION_MS / 2, so a
// worker whose event loop is blocked for more than about 4 s can lose a job it is still running, which then runs
// twice (a step is recorded once, and the HTTP tools send an idempotency key so the remote side can drop a repeat).

/** Same value on every worker of a queue: BullMQ's stalled-check throttle takes whichever worker set it. */
export const STALLED_INTERVAL_MS = 3_000;
/** Lock duration of a job; a worker that dies loses its jobs to a stalled check within about this long. */
export const LOCK_DURATION_MS = 8_000;
/**
 * Deliveries of a job whose worker died with it, beyond the first, before BullMQ fails it: a step that takes
 * down every worker that runs it (a poison step) must end its run, not the whole fleet one process at a time.
 */
export const MAX_STALLED_COUNT = 2;

/** Worker options of every Triad queue. */
export const WORKER_OPTIONS = {
  stalledInterval: STALLED_INTERVAL_MS,
  lockDuration: LOCK_DURATION_MS,
  maxStalledCount: MAX_STALLED_COUNT,
} as const;

/**
 * Worker options of `goals`: intake is a few Redis round trips and no model call, so one at a time (BullMQ's default)
 * caps how fast a burst of goals becomes runs at 1 / those round trips; the intake of a goal is idempotent per runId.
 */
export const INTAKE_WORKER_OPTIONS = { ...WORKER_OPTIONS, concurrency: 64 } as const;
