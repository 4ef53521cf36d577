import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, type OnApplicationBootstrap } from '@nestjs/common';
import {
  applyWorkerConcurrency,
  failRunIfFinal,
  failRunOfAbandonedStep,
  JOB_NAMES,
  parseJob,
  QUEUES,
  RunFinisher,
  type StepResult,
  TRIAD_CONFIG,
  type TriadConfig,
  WORKER_OPTIONS,
} from '@triad/shared';
import type { Job } from 'bullmq';
import { ExecutorService } from './executor.service.js';

/** Consumes `act` jobs: one tool call each. Tool failures are observations; only infrastructure errors throw. */
@Processor(QUEUES.act, WORKER_OPTIONS)
export class ActProcessor extends WorkerHost implements OnApplicationBootstrap {
  constructor(
    private readonly executor: ExecutorService,
    private readonly finisher: RunFinisher,
    @Inject(TRIAD_CONFIG) private readonly config: TriadConfig,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    applyWorkerConcurrency(this.worker, this.config, 'executor');
  }

  async process(job: Job, token?: string, signal?: AbortSignal): Promise<StepResult> {
    const data = parseJob(JOB_NAMES.act, job);
    try {
      return await this.executor.act(job, data, token, signal ?? new AbortController().signal);
    } catch (err) {
      throw await failRunIfFinal(this.finisher, job, data, err);
    }
  }

  @OnWorkerEvent('failed')
  onFailed(job: Job | undefined, err: Error): Promise<void> {
    return failRunOfAbandonedStep(this.finisher, JOB_NAMES.act, job, err);
  }
}
