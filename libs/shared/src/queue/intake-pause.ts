import { Logger } from '@nestjs/common';
import { type Job, WaitingError, type Worker } from 'bullmq';
import type { CapacityState, RedisCapacity } from '../store/redis-capacity.js';

const log = new Logger('Capacity');

/**
 * Pauses an intake worker (this process's, on the `goals` queue) while the capacity guard says Redis memory is high,
 * and resumes it below the resume mark. Jobs already running finish; goals on the queue stay there, waiting, neither
 * taken in nor failed, whoever enqueued them. Returns the unsubscribe (also done when the worker closes).
 */
export function pauseIntakeWhileHigh(worker: Worker, capacity: RedisCapacity): () => void {
  const apply = (state: CapacityState) => {
    if (worker.closing) return;
    if (state.high && !worker.isPaused()) {
      log.warn(`goal intake paused, goals wait on the queue: ${capacity.describe()}`);
      void worker.pause(true); // true: running jobs go on; only fetching stops
    } else if (!state.high && worker.isPaused()) {
      log.log(`goal intake resumed: ${capacity.describe()}`);
      void worker.resume().then(() => restartIfStopped(worker));
    }
  };
  apply(capacity.state);
  const unsubscribe = capacity.onChange(apply);
  worker.once('closing', unsubscribe);
  return unsubscribe;
}

/**
 * A paused worker may still have a fetch in flight when it pauses (blocked until a job arrives); the job it gets is
 * handed back to the queue, untouched, here. Call first in the processor: when the job was handed back, it returns
 * the error for the processor to throw (BullMQ takes it as "not processed"), else null.
 */
export async function handBackWhileHigh(
  capacity: RedisCapacity,
  job: Job,
  token: string | undefined,
): Promise<WaitingError | null> {
  if (!capacity.high || token === undefined) return null;
  await job.moveToWait(token);
  return new WaitingError(`intake paused: ${capacity.describe()}`);
}

// BullMQ's resume() restarts a worker whose loop had ended, and wakes one still running; a loop ending at the very
// moment of the resume could slip between the two, leaving intake stopped. Cheap to check.
function restartIfStopped(worker: Worker): void {
  if (worker.closing || worker.isPaused() || worker.isRunning()) return;
  worker.run().catch(() => {}); // "already running": it was restarted meanwhile
}
