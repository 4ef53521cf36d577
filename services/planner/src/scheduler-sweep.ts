import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { TenantScheduler } from '@triad/shared';

/** How often each planner repairs fair scheduling (see TenantScheduler.sweep). */
export const SCHEDULER_SWEEP_MS = 5_000;

/**
 * Every planner sweeps the tenants' slots periodically: a run admitted by a process that died before starting it is
 * started, and the slot of an ended run whose release was lost is given back. Idempotent, so planners may overlap.
 */
@Injectable()
export class SchedulerSweep implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(SchedulerSweep.name);
  private timer?: NodeJS.Timeout;
  private running: Promise<void> | null = null;

  constructor(private readonly scheduler: TenantScheduler) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.tick(), SCHEDULER_SWEEP_MS);
    this.timer.unref();
    this.tick(); // at start too: a planner restarted after a crash repairs at once
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  private tick(): void {
    if (this.running) return;
    this.running = this.scheduler
      .sweep()
      .then((n) => {
        if (n) this.logger.log(`scheduler sweep repaired ${n} runs`);
      })
      .catch((err: Error) => this.logger.warn(`scheduler sweep failed: ${err.message}`))
      .finally(() => {
        this.running = null;
      });
  }
}
