import { OnWorkerEvent, WorkerHost } from '@nestjs/bullmq';
import type { OnApplicationBootstrap } from '@nestjs/common';
import type { JobData } from '@triad/contracts';
import { DelayedError, type Job } from 'bullmq';
import type { TriadConfig } from '../config/triad-config.js';
import { limitModelCalls, pauseQueueOnRateLimit } from '../queue/model-rate-limit.js';
import { parseJob } from '../queue/typed-job.js';
import { applyWorkerConcurrency } from '../queue/worker-concurrency.js';
import type { RunFinisher } from '../runs/run-finisher.js';
import { failRunIfFinal, failRunOfAbandonedStep } from './job-failure.js';

/** What a stage may ask of the job it runs in, without knowing the queue library. */
export interface StageContext {
  /** Aborted when the job is cancelled or the worker closes. */
  signal: AbortSignal;
  /**
   * Parks the step until `untilMs` (it holds no worker slot meanwhile) and ends this delivery; a wake-up brings the
   * step back earlier. `afterParked` runs once the step is parked, before this delivery ends.
   */
  park(untilMs: number, reason: string, afterParked?: () => Promise<void>): Promise<never>;
}

type StageJobName = 'plan' | 'act' | 'judge';
const ROLE = { plan: 'planner', act: 'executor', judge: 'judge' } as const;

/**
 * The one consumer of the loop's queues: parses the job against its contract, runs the stage, and turns errors into
 * what BullMQ should do (retry, pause every replica on a model's 429, or end the run when the step fails for good).
 * A subclass names its queue with @Processor and implements `stage`.
 */
export abstract class StageProcessor<N extends StageJobName> extends WorkerHost implements OnApplicationBootstrap {
  protected constructor(
    private readonly jobName: N,
    private readonly finisher: RunFinisher,
    private readonly config: TriadConfig,
  ) {
    super();
  }

  /** The stage itself; its return value becomes the job's. */
  protected abstract stage(data: JobData<N>, ctx: StageContext): Promise<unknown>;

  onApplicationBootstrap(): void {
    const role = ROLE[this.jobName];
    applyWorkerConcurrency(this.worker, this.config, role);
    if (role !== 'executor') limitModelCalls(this.worker, this.config.model.rateLimit);
  }

  async process(job: Job, token?: string, signal?: AbortSignal): Promise<unknown> {
    const data = parseJob(this.jobName, job);
    const ctx: StageContext = {
      signal: signal ?? new AbortController().signal,
      park: async (untilMs, reason, afterParked) => {
        await job.moveToDelayed(untilMs, token);
        await afterParked?.();
        throw new DelayedError(reason);
      },
    };
    try {
      return await this.stage(data, ctx);
    } catch (err) {
      const paused = this.jobName === 'act' ? null : await pauseQueueOnRateLimit(this.worker, job, token, err);
      throw paused ?? (await failRunIfFinal(this.finisher, job, data, err));
    }
  }

  @OnWorkerEvent('failed')
  onFailed(job: Job | undefined, err: Error): Promise<void> {
    return failRunOfAbandonedStep(this.finisher, this.jobName, job, err);
  }
}
