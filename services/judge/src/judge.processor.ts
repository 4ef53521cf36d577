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
import { JudgeService } from './judge.service.js';

/** Consumes `judge` jobs: the fan-in parent of an iteration's tool calls, or a proposed answer. */
@Processor(QUEUES.judge, WORKER_OPTIONS)
export class JudgeProcessor extends WorkerHost implements OnApplicationBootstrap {
  constructor(
    private readonly judge: JudgeService,
    private readonly finisher: RunFinisher,
    @Inject(TRIAD_CONFIG) private readonly config: TriadConfig,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    applyWorkerConcurrency(this.worker, this.config, 'judge');
    limitModelCalls(this.worker, this.config.model.rateLimit);
  }

  async process(job: Job, _token?: string, signal?: AbortSignal): Promise<string> {
    const data = parseJob(JOB_NAMES.judge, job);
    try {
      return await this.judge.judge(data, signal);
    } catch (err) {
      throw (await pauseQueueOnRateLimit(this.worker, err)) ?? (await failRunIfFinal(this.finisher, job, data, err));
    }
  }

  @OnWorkerEvent('failed')
  onFailed(job: Job | undefined, err: Error): Promise<void> {
    return failRunOfAbandonedStep(this.finisher, JOB_NAMES.judge, job, err);
  }
}
