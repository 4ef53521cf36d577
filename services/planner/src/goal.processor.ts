import { Processor, WorkerHost } from '@nestjs/bullmq';
import { GoalBacklog, INTAKE_WORKER_OPTIONS, QUEUES, TriadError, tenantOfGoalData } from '@triad/shared';
import { type Job, UnrecoverableError } from 'bullmq';
import { IntakeService } from './intake.service.js';

/** Consumes `goal` jobs from other systems; the job's return value is the run id. */
@Processor(QUEUES.goals, INTAKE_WORKER_OPTIONS)
export class GoalProcessor extends WorkerHost {
  constructor(
    private readonly intake: IntakeService,
    private readonly backlog: GoalBacklog,
  ) {
    super();
  }

  async process(job: Job): Promise<{ runId: string; created: boolean }> {
    // A goal enqueued with a fair priority gives its place in its tenant's backlog back, once (on its first attempt).
    if ((job.opts.priority ?? 0) > 0 && job.attemptsMade === 0) await this.backlog.takenIn(tenantOfGoalData(job.data));
    try {
      return await this.intake.accept(job);
    } catch (err) {
      // A refused goal (invalid, or past its tenant's spend cap) is recorded as a failed run; no retry would help.
      throw err instanceof TriadError && !err.retryable ? new UnrecoverableError(err.message) : err;
    }
  }
}
