import { Processor, WorkerHost } from '@nestjs/bullmq';
import type { OnApplicationBootstrap } from '@nestjs/common';
import {
  GoalBacklog,
  handBackWhileHigh,
  INTAKE_WORKER_OPTIONS,
  pauseIntakeWhileHigh,
  QUEUES,
  RedisCapacity,
  TriadError,
  tenantOfGoalData,
} from '@triad/shared';
import { type Job, UnrecoverableError } from 'bullmq';
import { IntakeService } from './intake.service.js';

/**
 * Consumes `goal` jobs from other systems; the job's return value is the run id. While Redis memory is high (the
 * capacity guard), it takes no goal in: they wait on the queue until memory falls, runs in flight go on.
 */
@Processor(QUEUES.goals, INTAKE_WORKER_OPTIONS)
export class GoalProcessor extends WorkerHost implements OnApplicationBootstrap {
  constructor(
    private readonly intake: IntakeService,
    private readonly backlog: GoalBacklog,
    private readonly capacity: RedisCapacity,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    pauseIntakeWhileHigh(this.worker, this.capacity);
  }

  async process(job: Job, token?: string): Promise<{ runId: string; created: boolean }> {
    // First: a goal handed back keeps its place in its tenant's backlog.
    const handedBack = await handBackWhileHigh(this.capacity, job, token);
    if (handedBack) throw handedBack;
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
