import { JOB_NAMES, jobIds } from '@triad/contracts';
import type { Queue } from 'bullmq';
import { jobAgeSeconds } from '../queue/job-options.js';
import { addJob } from '../queue/typed-job.js';
import type { RunStore } from '../store/run-store.js';

/** An archive job retries for about a day and a half (1 s doubling, 18 attempts) before it is left failed. */
const ARCHIVE_JOB = (runId: string) => ({
  jobId: jobIds.archive(runId),
  attempts: 18,
  backoff: { type: 'exponential', delay: 1_000 },
});

/**
 * What becomes of an ended run's data in Redis: it expires after the retention. With an archive, the run is first
 * written there by the `archive` worker, which then retires it; until then nothing of it expires, so an archive that
 * is down delays expiry and loses nothing.
 */
export class RunRetention {
  constructor(
    private readonly store: RunStore,
    readonly retentionMs: number,
    private readonly archive?: Queue,
  ) {}

  /** Seconds, as BullMQ's `removeOnComplete.age` takes them: jobs are kept as long as run data. */
  get retentionSeconds(): number {
    return jobAgeSeconds(this.retentionMs);
  }

  /** Called for every ending of a run (again on a redelivery: both ways are idempotent). */
  async ended(runId: string): Promise<void> {
    if (this.archive) await addJob(this.archive, JOB_NAMES.archive, { runId }, ARCHIVE_JOB(runId));
    else await this.store.retire(runId, this.retentionMs);
  }
}
