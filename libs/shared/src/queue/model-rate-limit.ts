import { Worker } from 'bullmq';
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
 * On a 429 from the model: pauses every worker of the queue (on every replica) for the server's Retry-After, and
 * returns the error that puts the job back to wait without using up an attempt. Null for any other error.
 */
export async function pauseQueueOnRateLimit(worker: Worker, err: unknown): Promise<Error | null> {
  if (!(err instanceof ModelRateLimitedError)) return null;
  await worker.rateLimit(err.retryAfterMs);
  return Worker.RateLimitError();
}
