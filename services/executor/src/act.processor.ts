import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, type OnApplicationBootstrap } from '@nestjs/common';
import {
  failRunIfFinal,
  JOB_NAMES,
  LOCK_DURATION_MS,
  parseJob,
  QUEUES,
  RunFinisher,
  STALLED_INTERVAL_MS,
  type StepResult,
  TRIAD_CONFIG,
  type TriadConfig,
} from '@triad/shared';
import type { Job } from 'bullmq';
import { ExecutorService } from './executor.service.js';

/** Consumes `act` jobs: one tool call each. Tool failures are observations; only infrastructure errors throw. */
@Processor(QUEUES.act, { stalledInterval: STALLED_INTERVAL_MS, lockDuration: LOCK_DURATION_MS })
export class ActProcessor extends WorkerHost implements OnApplicationBootstrap {
  constructor(
    private readonly executor: ExecutorService,
    private readonly finisher: RunFinisher,
    @Inject(TRIAD_CONFIG) private readonly config: TriadConfig,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    this.worker.concurrency = this.config.concurrency.executor;
  }

  async process(job: Job, token?: string, signal?: AbortSignal): Promise<StepResult> {
    const data = parseJob(JOB_NAMES.act, job);
    try {
      return await this.executor.act(job, data, token, signal ?? new AbortController().signal);
    } catch (err) {
      throw await failRunIfFinal(this.finisher, job, data, err);
    }
  }
}
