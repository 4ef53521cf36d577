import { DelayedError, type Job, type Worker } from 'bullmq';
import type { TriadConfig } from '../config/triad-config.js';
import { ModelRateLimitedError } from '../errors/triad-error.js';

/** At most `max` model-calling jobs started per `durationMs`, over every replica of a queue. */
export type ModelRateLimit = NonNullable<TriadConfig['model']['rateLimit']>;

/** What stands for "no limit": BullMQ only honours a pause set by `worker.rateLimit()` on a worker with a limiter. */
const UNLIMITED: ModelRateLimit = { max: 1_000_000, durationMs: 1_000 };

/** Sets BullMQ's limiter on a worker of a model-calling queue; the limit is kept in Redis, shared by all replicas. */
export function limitModelCalls(worker: Worker, limit: ModelRateLimit | undefined): void {
  const { max, durationMs } = limit ?? UNLIMITED;
  worker.opts.limiter = { max, duration: durationMs };
}

/**
 * On a 429 from the model: pauses every worker of the queue (on every replica) for the server's Retry-After, and parks
 * the job until then without using up an attempt; returns the error that ends this delivery. Null for any other error.
 * (BullMQ's own way, `Worker.RateLimitError()`, puts the job back to wait; a job with a priority, as every loop job
 * has, is put back without waking the workers, which then take it only at their next drain timeout, seconds later.
 * A delayed job is promoted and announced when its time comes.)
 */
export async function pauseQueueOnRateLimit(
  worker: Worker,
  job: Job,
  token: string | undefined,
  err: unknown,
): Promise<Error | null> {
  if (!(err instanceof ModelRateLimitedError)) return null;
  await worker.rateLimit(err.retryAfterMs);
  await job.moveToDelayed(Date.now() + err.retryAfterMs, token);
  return new DelayedError(`model rate-limited: paused for ${err.retryAfterMs} ms`);
}
