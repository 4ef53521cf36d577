import {
  isTerminal,
  JOB_NAMES,
  jobIds,
  type RunFinished,
  type RunRecord,
  splitStoreRunId,
  type TerminalStatus,
} from '@triad/contracts';
import type { Queue } from 'bullmq';
import type { DistillDispatch } from '../memory/distill-dispatch.js';
import { addJob } from '../queue/typed-job.js';
import type { RunEnd, RunStore } from '../store/run-store.js';
import type { ResultsQueues } from './results-queues.js';
import type { RunRetention } from './run-retention.js';
import type { TenantScheduler } from './tenant-scheduler.js';

/** Where and how result webhooks are enqueued (for runs whose goal has a `callbackUrl`). */
export interface WebhookDispatch {
  queue: Queue;
  attempts: number;
  backoffMs: number;
}

/**
 * Ends runs: the terminal compare-and-set on the record, then `run.finished` on the results queue (the shared one, or
 * the producer's own: see ResultsQueues) and, when the goal
 * asked for one, a `deliver` job on the webhooks queue; for a tenant with a cap on runs in flight, the run's slot goes
 * to its next waiting run; a run that may teach something gets its `distill` job (see DistillDispatch); last, the
 * run's data is set to expire (or to be archived first, see RunRetention). Every
 * way a run ends comes through publishEnded (again on every redelivery), so a slot is always given back and no ended
 * run stays in Redis for good.
 */
export class RunFinisher {
  constructor(
    private readonly store: RunStore,
    private readonly results: Queue | ResultsQueues,
    private readonly webhooks?: WebhookDispatch,
    private readonly scheduler?: TenantScheduler,
    private readonly retention?: RunRetention,
    private readonly distill?: DistillDispatch,
  ) {}

  /** Ends the run if it is still running (true when this call ended it), then makes sure its result is published. */
  async finish(runId: string, end: RunEnd): Promise<boolean> {
    const ended = await this.store.finish(runId, end);
    if (ended) await this.publishEnded(ended);
    else await this.publish(runId);
    return ended !== null;
  }

  /**
   * Publishes `run.finished` for an ended run, read from the store; a repeat is a no-op. `resultsQueue`: the producer's
   * queue of a run without a request (a rejected goal whose data named a valid one).
   */
  async publish(runId: string, resultsQueue?: string): Promise<void> {
    const run = await this.store.get(runId);
    if (run) await this.publishEnded(run, resultsQueue);
  }

  /** Publishes `run.finished` for a record just ended (nothing is read back); the deterministic job id makes a repeat a no-op. */
  async publishEnded(run: RunRecord, resultsQueue = run.request?.resultsQueue): Promise<void> {
    if (!isTerminal(run.status)) return;
    const runId = run.id;
    const results = 'queueFor' in this.results ? await this.results.queueFor(run.tenant, resultsQueue) : this.results;
    await addJob(results, JOB_NAMES.runFinished, toRunFinished(run), {
      jobId: jobIds.runFinished(runId),
      removeOnComplete: { age: this.retention?.retentionSeconds ?? 7 * 24 * 3600 },
    });
    if (run.request?.callbackUrl && this.webhooks) {
      const { queue, attempts, backoffMs } = this.webhooks;
      await addJob(
        queue,
        JOB_NAMES.webhook,
        { runId },
        { jobId: jobIds.webhook(runId), attempts, backoff: { type: 'exponential', delay: backoffMs } },
      );
    }
    // Only a capped tenant's runs hold slots: the others cost no round trip here.
    if (this.scheduler && this.scheduler.capOf(run.tenant) !== null) await this.scheduler.release(runId);
    await this.distill?.ended(run);
    await this.retention?.ended(runId);
  }
}

/** The public result of an ended run. */
export function toRunFinished(run: RunRecord): RunFinished {
  const finishedAt = run.finishedAt ?? run.updatedAt;
  return {
    runId: splitStoreRunId(run.id).runId,
    tenant: run.tenant,
    status: run.status as TerminalStatus,
    answer: run.answer,
    output: run.output ?? null,
    error: run.error, // scrubbed of credentials when the store recorded it
    iterations: run.iteration,
    usage: run.usage,
    createdAt: run.createdAt,
    finishedAt,
    durationMs: Math.max(0, finishedAt - run.createdAt),
    metadata: run.request?.metadata ?? {},
    ...(run.forkOf ? { forkOf: run.forkOf } : {}),
    ...(run.replayOf ? { replayOf: run.replayOf } : {}),
  };
}
