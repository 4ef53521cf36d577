import type { RedisClient } from '../queue/redis-connection.js';
import type { RunStore } from '../store/run-store.js';
import type { Approvals } from './approvals.js';
import type { RunFinisher } from './run-finisher.js';

/** Cancels runs: ends the run, aborts its in-flight tools on every executor, and closes its open gates. */
export class RunControl {
  constructor(
    private readonly redis: RedisClient,
    private readonly store: RunStore,
    private readonly finisher: RunFinisher,
    private readonly approvals: Approvals,
  ) {}

  /** Cancels a running run (a no-op for an ended one); returns whether this call ended it. */
  async cancel(runId: string, by: string, reason = 'cancelled'): Promise<boolean> {
    const run = await this.store.get(runId);
    if (!run) return false;
    const ended = await this.finisher.finish(runId, {
      status: 'cancelled',
      iteration: run.iteration,
      error: { code: 'cancelled', message: `cancelled by ${by}: ${reason}` },
      reason: `cancelled by ${by}: ${reason}`,
    });
    // Executors subscribe to this channel and abort the run's tools in flight.
    await this.redis.publish(this.store.keys.cancelChannel(), runId);
    for (const a of await this.approvals.listPending(run.tenant, { runId })) {
      await this.approvals.reject(runId, a.id, by, 'run cancelled').catch(() => {});
    }
    return ended;
  }
}
