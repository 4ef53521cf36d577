import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import {
  addJob,
  GoalRequest,
  JOB_NAMES,
  jobIds,
  QUEUES,
  RUN_ID_PATTERN,
  RunFinisher,
  RunStore,
  traceparentOf,
  triadMetrics,
  withRunSpan,
} from '@triad/shared';
import { type Job, type Queue, UnrecoverableError } from 'bullmq';

/** A goal job's data may not exceed this, serialized: it is kept in Redis with the run. */
export const MAX_GOAL_JOB_BYTES = 256 * 1024;

/** Turns a `goal` job into a run: validates it, creates the run once per runId, and starts iteration 1. */
@Injectable()
export class IntakeService {
  private readonly logger = new Logger(IntakeService.name);

  constructor(
    private readonly store: RunStore,
    private readonly finisher: RunFinisher,
    @InjectQueue(QUEUES.plan) private readonly planQueue: Queue,
  ) {}

  async accept(job: Pick<Job, 'id' | 'name' | 'data'>): Promise<{ runId: string; created: boolean }> {
    const request = this.validate(job);
    if (typeof request === 'string') return this.reject(job, request);
    const runId = request.runId ?? `run-${job.id}`;
    // The run's trace starts here; its traceparent is stored with the run so every later span joins it.
    const workflow = { 'gen_ai.operation.name': 'invoke_workflow', 'gen_ai.workflow.name': 'triad' };
    return withRunSpan('invoke_workflow triad', { runId, traceparent: null, attributes: workflow }, async (span) => {
      const created = await this.store.create(runId, request, Date.now(), traceparentOf());
      span.setAttribute('triad.run.created', created);
      const run = await this.store.get(runId);
      // Re-adding plan 1 is harmless (deterministic job id) and covers a crash between create and add.
      if (run?.status === 'running' && run.iteration === 1 && run.phase === 'plan') {
        await addJob(this.planQueue, JOB_NAMES.plan, { runId, iteration: 1 }, { jobId: jobIds.plan(runId, 1) });
      }
      if (created) {
        triadMetrics.runStarted();
        this.logger.log(`run ${runId} accepted`);
      }
      return { runId, created };
    });
  }

  /** The parsed request, or the reason it was refused. */
  private validate(job: Pick<Job, 'id' | 'name' | 'data'>): GoalRequest | string {
    if (job.name !== JOB_NAMES.goal) return `job ${job.id} on "goals" is named "${job.name}", expected "goal"`;
    const bytes = Buffer.byteLength(JSON.stringify(job.data ?? null));
    if (bytes > MAX_GOAL_JOB_BYTES) return `goal job is ${bytes} bytes, more than the limit of ${MAX_GOAL_JOB_BYTES}`;
    const parsed = GoalRequest.safeParse(job.data);
    if (parsed.success) return parsed.data;
    return `invalid goal: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`;
  }

  /** Records the refusal as a failed run and fails the job for good, so the producer sees the reason too. */
  private async reject(job: Pick<Job, 'id' | 'data'>, reason: string): Promise<never> {
    const given = (job.data as { runId?: unknown } | null)?.runId;
    const runId = typeof given === 'string' && RUN_ID_PATTERN.test(given) ? given : `rejected-${job.id}`;
    const created = await this.store.createRejected(runId, { code: 'invalid_goal', message: reason });
    if (created) await this.finisher.publish(runId);
    this.logger.warn(`goal job ${job.id} rejected (run ${runId}): ${reason}`);
    throw new UnrecoverableError(reason);
  }
}
