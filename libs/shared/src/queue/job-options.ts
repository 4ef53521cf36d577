import type { JobsOptions } from 'bullmq';

/** Default options of every job Triad adds: retries with backoff, bounded history. */
export function defaultJobOptions(attempts: number): JobsOptions {
  return {
    attempts,
    backoff: { type: 'exponential', delay: 1_000 },
    removeOnComplete: { age: 24 * 3600, count: 10_000 },
    removeOnFail: { age: 7 * 24 * 3600 },
  };
}

/** Same value on every worker of a queue: BullMQ's stalled-check throttle takes whichever worker set it. */
export const STALLED_INTERVAL_MS = 5_000;
/** Lock duration of a job; a worker that dies loses its jobs to a stalled check within about this long. */
export const LOCK_DURATION_MS = 15_000;
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
