import { Processor } from '@nestjs/bullmq';
import { Inject } from '@nestjs/common';
import {
  JOB_NAMES,
  type JudgeJob,
  QUEUES,
  RunFinisher,
  RunLoop,
  type StageContext,
  StageProcessor,
  TRIAD_CONFIG,
  type TriadConfig,
  WORKER_OPTIONS,
} from '@triad/shared';
import { JudgeService } from './judge.service.js';

/** Consumes `judge` jobs: the fan-in parent of an iteration's tool calls, or a proposed answer. */
@Processor(QUEUES.judge, WORKER_OPTIONS)
export class JudgeProcessor extends StageProcessor<'judge'> {
  constructor(
    private readonly loop: RunLoop,
    private readonly judge: JudgeService,
    finisher: RunFinisher,
    @Inject(TRIAD_CONFIG) config: TriadConfig,
  ) {
    super(JOB_NAMES.judge, finisher, config);
  }

  protected stage(job: JudgeJob, ctx: StageContext): Promise<string> {
    return this.loop.judge(job, ctx, this.judge);
  }
}
