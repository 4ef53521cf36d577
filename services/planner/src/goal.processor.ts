import { Processor, WorkerHost } from '@nestjs/bullmq';
import { INTAKE_WORKER_OPTIONS, QUEUES, TriadError } from '@triad/shared';
import { type Job, UnrecoverableError } from 'bullmq';
import { IntakeService } from './intake.service.js';

/** Consumes `goal` jobs from other systems; the job's return value is the run id. */
@Processor(QUEUES.goals, INTAKE_WORKER_OPTIONS)
export class GoalProcessor extends WorkerHost {
  constructor(private readonly intake: IntakeService) {
    super();
  }

  async process(job: Job): Promise<{ runId: string; created: boolean }> {
    try {
      return await this.intake.accept(job);
    } catch (err) {
      // A refused goal (invalid, or past its tenant's spend cap) is recorded as a failed run; no retry would help.
      throw err instanceof TriadError && !err.retryable ? new UnrecoverableError(err.message) : err;
    }
  }
}
