import { Processor } from '@nestjs/bullmq';
import { Inject, Logger } from '@nestjs/common';
import {
  describeError,
  isFinalFailure,
  JOB_NAMES,
  type JudgeJob,
  parseJob,
  pauseQueueOnRateLimit,
  QUEUES,
  RunFinisher,
  RunLoop,
  type StageContext,
  StageProcessor,
  TenantSpendBusyError,
  TRIAD_CONFIG,
  type TriadConfig,
  TriadError,
  WORKER_OPTIONS,
} from '@triad/shared';
import { DelayedError, type Job, UnrecoverableError } from 'bullmq';
import { JudgeService } from './judge.service.js';
import { LessonDistiller } from './memory/lesson-distiller.js';

/** How long a distillation waits (plus as much again at random) when its tenant's cap is held by calls in flight. */
const SPEND_WAIT_MS = 500;

/**
 * Consumes `judge` jobs: the fan-in parent of an iteration's tool calls, or a proposed answer; and `distill` jobs,
 * which learn lessons from an ended run (they wait behind every stage of a live run: see DISTILL_PRIORITY).
 */
@Processor(QUEUES.judge, WORKER_OPTIONS)
export class JudgeProcessor extends StageProcessor<'judge'> {
  private readonly logger = new Logger(JudgeProcessor.name);

  constructor(
    private readonly loop: RunLoop,
    private readonly judge: JudgeService,
    private readonly distiller: LessonDistiller,
    finisher: RunFinisher,
    @Inject(TRIAD_CONFIG) config: TriadConfig,
  ) {
    super(JOB_NAMES.judge, finisher, config);
  }

  override process(job: Job, token?: string, signal?: AbortSignal): Promise<unknown> {
    if (job.name === JOB_NAMES.distill) return this.distill(job, token, signal);
    return super.process(job, token, signal);
  }

  protected stage(job: JudgeJob, ctx: StageContext): Promise<string> {
    return this.loop.judge(job, ctx, this.judge);
  }

  /** A distillation's failure ends nothing (its run has ended): it is retried, then left failed with its reason. */
  private async distill(job: Job, token?: string, signal?: AbortSignal): Promise<string> {
    let runId: string;
    try {
      ({ runId } = parseJob(JOB_NAMES.distill, job));
    } catch (err) {
      throw new UnrecoverableError(describeError(err));
    }
    try {
      return await this.distiller.distill(runId, signal);
    } catch (err) {
      const paused = await pauseQueueOnRateLimit(this.worker, job, token, err);
      if (paused) throw paused;
      if (err instanceof TenantSpendBusyError) {
        // The tenant's cap is held by calls in flight: wait for them (no attempt is used up), as a stage does.
        await job.moveToDelayed(Date.now() + SPEND_WAIT_MS + Math.floor(Math.random() * SPEND_WAIT_MS), token);
        throw new DelayedError(err.message);
      }
      const final = isFinalFailure(job, err);
      this.logger.warn(
        `run ${runId}: lessons not distilled (attempt ${job.attemptsMade + 1}${final ? ', the last' : ''}): ${describeError(err)}`,
      );
      // A reply the model will not fix by being asked again (a refusal, an HTTP 4xx) is not retried.
      throw err instanceof TriadError && !err.retryable ? new UnrecoverableError(describeError(err)) : err;
    }
  }
}
