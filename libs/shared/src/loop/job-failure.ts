import type { JobName, RunErrorCode } from '@triad/contracts';
import { DelayedError, type Job, UnrecoverableError } from 'bullmq';
import { describeError, TriadError } from '../errors/triad-error.js';
import { parseJob } from '../queue/typed-job.js';
import type { RunFinisher } from '../runs/run-finisher.js';

/** Whether BullMQ will give up on this job after `err`: a non-retryable error, or the last attempt. */
export function isFinalFailure(job: Pick<Job, 'attemptsMade' | 'opts'>, err: unknown): boolean {
  if (err instanceof UnrecoverableError) return true;
  if (err instanceof TriadError && !err.retryable) return true;
  return job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
}

/**
 * Turns a processor's error into what it must throw: a retryable error is thrown as is (BullMQ retries it);
 * on a final failure the run is ended as failed with the reason first, so a run never vanishes silently,
 * and an UnrecoverableError stops further attempts.
 */
export async function failRunIfFinal(
  finisher: RunFinisher,
  job: Pick<Job, 'attemptsMade' | 'opts' | 'name'>,
  run: { runId: string; iteration: number },
  err: unknown,
): Promise<Error> {
  // A parked job (an approval gate) is not a failure: BullMQ keeps it delayed.
  if (err instanceof DelayedError || !isFinalFailure(job, err)) {
    return err instanceof Error ? err : new Error(String(err));
  }
  const code: RunErrorCode = err instanceof TriadError ? err.code : 'internal_error';
  const message = `${job.name} step failed: ${describeError(err)}`;
  await finisher.finish(run.runId, {
    status: 'failed',
    iteration: run.iteration,
    error: { code, message },
    reason: message,
  });
  return err instanceof UnrecoverableError ? err : new UnrecoverableError(message);
}

/**
 * Ends the run of a step BullMQ failed without running it: one that stalled more often than maxStalledCount
 * (its workers kept dying with it). The processor never sees that failure, so this is called from the worker's
 * `failed` event; other failures went through failRunIfFinal already.
 */
export async function failRunOfAbandonedStep(
  finisher: RunFinisher,
  name: Extract<JobName, 'plan' | 'act' | 'judge'>,
  job: Job | undefined,
  err: Error,
): Promise<void> {
  // Another job of the same queue (a `distill` job on `judge`) is not a step of a live run.
  if (!job?.deferredFailure || job.name !== name) return;
  const { runId, iteration } = parseJob(name, job);
  const message = `${name} step failed: ${err.message} (the process running it died each time)`;
  await finisher.finish(runId, {
    status: 'failed',
    iteration,
    error: { code: 'internal_error', message },
    reason: message,
  });
}
