import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, type OnApplicationBootstrap } from '@nestjs/common';
import {
  applyWorkerConcurrency,
  failRunIfFinal,
  failRunOfAbandonedStep,
  JOB_NAMES,
  limitModelCalls,
  parseJob,
  pauseQueueOnRateLimit,
  QUEUES,
  RunFinisher,
  TRIAD_CONFIG,
  type TriadConfig,
  WORKER_OPTIONS,
} from '@triad/shared';
import type { Job } from 'bullmq';
import { PlannerService } from './planner.service.js';

/** Consumes `plan` jobs: one planner iteration each. */
@Processor(QUEUES.plan, WORKER_OPTIONS)
export class PlanProcessor extends WorkerHost implements OnApplicationBootstrap {
  constructor(
    private readonly planner: PlannerService,
    private readonly finisher: RunFinisher,
    @Inject(TRIAD_CONFIG) private readonly config: TriadConfig,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    applyWorkerConcurrency(this.worker, this.config, 'planner');
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

  @OnWorkerEvent('failed')
  onFailed(job: Job | undefined, err: Error): Promise<void> {
    return failRunOfAbandonedStep(this.finisher, JOB_NAMES.plan, job, err);
  }
}
