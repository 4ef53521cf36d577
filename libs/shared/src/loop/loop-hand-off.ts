import { ActJob, JOB_NAMES, JudgeJob, jobIds, PlanJob, QUEUES } from '@triad/contracts';
import { type FlowProducer, Job, type JobsOptions, type Queue } from 'bullmq';

/**
 * Hands the next stage its job: the one place where the loop adds jobs. Every job id is deterministic, so handing
 * off twice (a redelivered stage repeating its hand-off) adds nothing the second time. Every job carries its run's
 * priority (GoalRequest.priority, 1 most urgent .. 10) as its BullMQ priority, so each queue takes a more urgent
 * run's stage first, and runs of one priority in order.
 */
export class LoopHandOff {
  constructor(
    private readonly queues: { plan: Queue; act: Queue; judge: Queue },
    private readonly flows: FlowProducer,
    /** The options every Triad job gets (see defaultJobOptions). */
    private readonly jobDefaults: JobsOptions,
  ) {}

  /** The planning stage of an iteration (iteration 1 starts a run). */
  async plan(runId: string, iteration: number, priority: number): Promise<void> {
    const data = PlanJob.parse({ runId, iteration });
    const opts = { ...this.options(priority), jobId: jobIds.plan(runId, iteration) };
    await this.queues.plan.add(JOB_NAMES.plan, data, opts);
  }

  /** The judge of a proposed answer. */
  async judgeAnswer(runId: string, iteration: number, priority: number): Promise<void> {
    const data = JudgeJob.parse({ runId, iteration, kind: 'answer' });
    const opts = { ...this.options(priority), jobId: jobIds.judge(runId, iteration) };
    await this.queues.judge.add(JOB_NAMES.judge, data, opts);
  }

  /** The iteration's tool steps, and the judge that starts once every one of them is done (a flow: fan-in). */
  async actThenJudge(runId: string, iteration: number, stepIds: string[], priority: number): Promise<void> {
    const opts = this.options(priority);
    await this.flows.add({
      name: JOB_NAMES.judge,
      queueName: QUEUES.judge,
      data: JudgeJob.parse({ runId, iteration, kind: 'observe' }),
      opts: { ...opts, jobId: jobIds.judge(runId, iteration) },
      children: stepIds.map((stepId) => ({
        name: JOB_NAMES.act,
        queueName: QUEUES.act,
        data: ActJob.parse({ runId, iteration, stepId }),
        // A child that fails for good must not strand its parent: the judge reports the missing observation.
        opts: { ...opts, jobId: jobIds.act(runId, stepId), ignoreDependencyOnFailure: true },
      })),
    });
  }

  /** Brings a parked tool step (waiting for an approval) back at once; a no-op when it is not parked. */
  wake(runId: string, stepId: string): Promise<void> {
    return wakeParkedStep(this.queues.act, runId, stepId);
  }

  private options(priority: number) {
    return { ...this.jobDefaults, priority };
  }
}

/** Moves a parked act job from delayed to waiting; a no-op when it is not parked (yet, or any more). */
export async function wakeParkedStep(act: Queue, runId: string, stepId: string): Promise<void> {
  const job = await Job.fromId(act, jobIds.act(runId, stepId));
  if (job && (await job.isDelayed())) await job.promote().catch(() => {}); // lost a race with another waker
}
