import { Processor } from '@nestjs/bullmq';
import { Inject } from '@nestjs/common';
import {
  JOB_NAMES,
  type PlanJob,
  QUEUES,
  RunFinisher,
  RunLoop,
  type StageContext,
  StageProcessor,
  TRIAD_CONFIG,
  type TriadConfig,
  WORKER_OPTIONS,
} from '@triad/shared';
import { PlannerService } from './planner.service.js';

/** Consumes `plan` jobs: one planner iteration each. */
@Processor(QUEUES.plan, WORKER_OPTIONS)
export class PlanProcessor extends StageProcessor<'plan'> {
  constructor(
    private readonly loop: RunLoop,
    private readonly planner: PlannerService,
    finisher: RunFinisher,
    @Inject(TRIAD_CONFIG) config: TriadConfig,
  ) {
    super(JOB_NAMES.plan, finisher, config);
  }

  protected stage(job: PlanJob, ctx: StageContext): Promise<string> {
    return this.loop.plan(job, ctx, (view) => this.planner.decide(view, ctx.signal));
  }
}
