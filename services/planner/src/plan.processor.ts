import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, type OnApplicationBootstrap } from '@nestjs/common';
import {
  failRunIfFinal,
  JOB_NAMES,
  LOCK_DURATION_MS,
  limitModelCalls,
  parseJob,
  pauseQueueOnRateLimit,
  QUEUES,
  RunFinisher,
  STALLED_INTERVAL_MS,
  TRIAD_CONFIG,
  type TriadConfig,
} from '@triad/shared';
import type { Job } from 'bullmq';
import { PlannerService } from './planner.service.js';

/** Consumes `plan` jobs: one planner iteration each. */
@Processor(QUEUES.plan, { stalledInterval: STALLED_INTERVAL_MS, lockDuration: LOCK_DURATION_MS })
export class PlanProcessor extends WorkerHost implements OnApplicationBootstrap {
  constructor(
    private readonly planner: PlannerService,
    private readonly finisher: RunFinisher,
    @Inject(TRIAD_CONFIG) private readonly config: TriadConfig,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    this.worker.concurrency = this.config.concurrency.planner;
    limitModelCalls(this.worker, this.config.model.rateLimit);
  }

  async process(job: Job, _token?: string, signal?: AbortSignal): Promise<string> {
    const { runId, iteration } = parseJob(JOB_NAMES.plan, job);
    try {
      return await this.planner.plan(runId, iteration, signal);
    } catch (err) {
      throw (
        (await pauseQueueOnRateLimit(this.worker, err)) ??
        (await failRunIfFinal(this.finisher, job, { runId, iteration }, err))
      );
    }
  }
}
