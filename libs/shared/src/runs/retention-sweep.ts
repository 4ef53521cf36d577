import type { Queue } from 'bullmq';
import type { RedisClient } from '../queue/redis-connection.js';
import type { ApprovalStore } from '../store/approval-store.js';
import type { RunStore } from '../store/run-store.js';
import type { ResultsQueues } from './results-queues.js';

/** Index entries checked per round trip. */
const BATCH = 500;

/**
 * Removes what outlives a run's expired data: its entry in the tenant's run index and in the tenant's pending
 * approvals, the queues' completed and failed jobs older than the retention, and results (`run.finished`) nobody took
 * within the retention, from the shared results queue and producers' own (a queue nobody consumes would otherwise
 * grow for good; a producer's queue idle for the retention is forgotten, see ResultsQueues). A run's own keys expire by
 * themselves (RunStore.retire); these are shared, so a sweep trims them (BullMQ's own removal by age runs only when
 * another job finishes, so a queue that goes quiet would keep its last jobs). One replica sweeps at a time (a lock
 * with a TTL); a sweep that dies leaves nothing half done.
 */
export class RetentionSweep {
  constructor(
    private readonly redis: RedisClient,
    private readonly runs: RunStore,
    private readonly approvals: ApprovalStore,
    private readonly retentionMs: number,
    private readonly queues: Queue[] = [],
    private readonly results?: ResultsQueues,
  ) {}

  /** How often to sweep: often enough that an index never holds much more than the retention's worth of runs. */
  get intervalMs(): number {
    return Math.min(60_000, Math.max(1_000, Math.floor(this.retentionMs / 2)));
  }

  /** Sweeps every tenant, unless another replica holds the lock; returns the entries removed. */
  async sweep(now = Date.now()): Promise<number> {
    const keys = this.runs.keys;
    const lock = await this.redis.set(keys.retentionSweepLock(), String(process.pid), 'PX', this.intervalMs, 'NX');
    if (lock !== 'OK') return 0;
    let removed = 0;
    for (const tenant of await this.redis.smembers(keys.tenants())) {
      removed += await this.sweepIndex(keys.index(tenant), now - this.retentionMs);
      removed += await this.approvals.forgetGone(tenant);
    }
    for (const queue of this.queues) {
      for (const state of ['completed', 'failed'] as const) removed += await this.cleanJobs(queue, state);
    }
    if (this.results) removed += await this.sweepResults(this.results, now);
    return removed;
  }

  /** Unconsumed results past the retention, in the shared results queue and every producer's own. */
  private async sweepResults(results: ResultsQueues, now: number): Promise<number> {
    let removed = await this.cleanJobs(results.shared, 'wait');
    for (const name of (await results.registered()).keys()) {
      const queue = results.queue(name);
      for (const state of ['wait', 'completed', 'failed'] as const) removed += await this.cleanJobs(queue, state);
      await results.forgetIdle(name, now - this.retentionMs);
    }
    return removed;
  }

  /**
   * Removes a queue's jobs in `state` that finished longer than the retention ago (`wait`: added longer ago and not
   * taken yet).
   */
  private async cleanJobs(queue: Queue, state: 'completed' | 'failed' | 'wait'): Promise<number> {
    let removed = 0;
    for (;;) {
      const ids = await queue.clean(this.retentionMs, BATCH, state);
      removed += ids.length;
      if (ids.length < BATCH) return removed;
    }
  }

  /**
   * Removes the entries, created before `createdBefore`, of runs that are gone. A run created later cannot have
   * expired yet (its data lives the retention after it ended); a deleted one left the index when it was deleted.
   */
  private async sweepIndex(index: string, createdBefore: number): Promise<number> {
    let removed = 0;
    let offset = 0;
    for (;;) {
      const ids = await this.redis.zrangebyscore(index, '-inf', `(${createdBefore}`, 'LIMIT', offset, BATCH);
      if (!ids.length) return removed;
      const gone = await this.runs.missing(ids);
      if (gone.length) await this.redis.zrem(index, ...gone);
      removed += gone.length;
      offset += ids.length - gone.length;
      if (ids.length < BATCH) return removed;
    }
  }
}
