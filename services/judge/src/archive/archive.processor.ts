import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject } from '@nestjs/common';
import {
  ApprovalStore,
  isTerminal,
  JOB_NAMES,
  parseJob,
  QUEUES,
  RUN_ARCHIVE,
  type RunArchive,
  RunRetention,
  RunStore,
  WORKER_OPTIONS,
} from '@triad/shared';
import { type Job, UnrecoverableError } from 'bullmq';

/** Most events one run can have archived (as many as a stage reads; a run's stream stays far below it). */
const MAX_EVENTS = 100_000;

/**
 * Consumes `archive` jobs (with TRIAD_ARCHIVE_URL): writes an ended run (record, events, approval audit) to the
 * archive, then sets its Redis data to expire. Until the write succeeds the run stays whole in Redis; BullMQ retries
 * with backoff, and a redelivery writes the same rows again.
 */
@Processor(QUEUES.archive, WORKER_OPTIONS)
export class ArchiveProcessor extends WorkerHost {
  constructor(
    private readonly store: RunStore,
    private readonly approvals: ApprovalStore,
    private readonly retention: RunRetention,
    @Inject(RUN_ARCHIVE) private readonly archive: RunArchive,
  ) {
    super();
  }

  async process(job: Job): Promise<string> {
    const { runId } = parseJob(JOB_NAMES.archive, job);
    const run = await this.store.get(runId);
    if (!run) return 'gone'; // deleted (or archived and expired) before this delivery
    if (!isTerminal(run.status)) throw new UnrecoverableError(`run ${runId} is still running`);
    const events = await this.store.events(runId, '0', MAX_EVENTS);
    const gated = [...new Set(events.flatMap((e) => (e.type === 'approval.requested' ? [e.stepId] : [])))];
    const approvals = (await Promise.all(gated.map((stepId) => this.approvals.get(runId, stepId)))).filter(
      (a) => a !== null,
    );
    await this.archive.write({ run, events, approvals });
    await this.store.retire(runId, this.retention.retentionMs);
    return 'archived';
  }
}
