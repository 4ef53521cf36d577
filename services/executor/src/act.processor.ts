import { Processor } from '@nestjs/bullmq';
import { Inject } from '@nestjs/common';
import {
  type ActJob,
  JOB_NAMES,
  QUEUES,
  RunFinisher,
  RunLoop,
  type StageContext,
  StageProcessor,
  type StepResult,
  TRIAD_CONFIG,
  type TriadConfig,
  WORKER_OPTIONS,
} from '@triad/shared';
import { ExecutorService } from './executor.service.js';

/** Consumes `act` jobs: one tool call each. Tool failures are observations; only infrastructure errors throw. */
@Processor(QUEUES.act, WORKER_OPTIONS)
export class ActProcessor extends StageProcessor<'act'> {
  constructor(
    private readonly loop: RunLoop,
    private readonly executor: ExecutorService,
    finisher: RunFinisher,
    @Inject(TRIAD_CONFIG) config: TriadConfig,
  ) {
    super(JOB_NAMES.act, finisher, config);
  }

  protected stage(job: ActJob, ctx: StageContext): Promise<StepResult> {
    return this.loop.act(job, ctx, this.executor);
  }
}
