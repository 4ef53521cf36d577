import { Processor, WorkerHost } from '@nestjs/bullmq';
import { INTAKE_WORKER_OPTIONS, QUEUES } from '@triad/shared';
import type { Job } from 'bullmq';
import { IntakeService } from './intake.service.js';

/** Consumes `goal` jobs from other systems; the job's return value is the run id. */
@Processor(QUEUES.goals, INTAKE_WORKER_OPTIONS)
export class GoalProcessor extends WorkerHost {
  constructor(private readonly intake: IntakeService) {
    super();
  }

  async process(job: Job): Promise<{ runId: string; created: boolean }> {
    return this.intake.accept(job);
  }
}
