import { createHash, randomUUID } from 'node:crypto';
import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable } from '@nestjs/common';
import {
  addJob,
  type GoalRequest,
  JOB_NAMES,
  jobIds,
  QUEUES,
  RUN_REDIS,
  RunStore,
  type SubmitRunResponse,
  storeRunId,
} from '@triad/shared';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

const DAY_SECONDS = 24 * 3600;

/**
 * Turns an accepted GoalRequest (its tenant set to the caller's) into a `goal` job. The run id is the body's runId,
 * else the run an Idempotency-Key was first used for in the tenant, else a new one; every replica agrees through
 * SET NX in Redis. Run ids and Idempotency-Keys are the tenant's own: the same one in two tenants is two runs.
 */
@Injectable()
export class RunSubmissionService {
  constructor(
    private readonly store: RunStore,
    @Inject(RUN_REDIS) private readonly redis: Redis,
    @InjectQueue(QUEUES.goals) private readonly goals: Queue,
  ) {}

  /** Enqueues the goal (once per run id); `created` is false when this run was submitted before. */
  async submit(request: GoalRequest & { tenant: string }, idempotencyKey: string | null): Promise<SubmitRunResponse> {
    const runId = request.runId ?? (await this.runIdFor(request.tenant, idempotencyKey));
    const storeId = storeRunId(request.tenant, runId);
    const exists = (await this.store.get(storeId)) !== null;
    // A run id is claimed once; the claim outlives the goal job's stay in the queue.
    const claimed =
      !exists && (await this.redis.set(this.store.keys.submitted(storeId), '1', 'EX', DAY_SECONDS, 'NX')) === 'OK';
    // Re-adding is harmless (deterministic job id) and covers a crash between the claim and the add.
    if (!exists) await addJob(this.goals, JOB_NAMES.goal, { ...request, runId }, { jobId: jobIds.goal(storeId) });
    return { runId, created: claimed, url: `/v1/runs/${runId}` };
  }

  /** Whether a run (by store id) was submitted but not yet taken in by a planner. */
  async isPending(storeId: string): Promise<boolean> {
    return (await this.goals.getJob(jobIds.goal(storeId))) != null;
  }

  private async runIdFor(tenant: string, idempotencyKey: string | null): Promise<string> {
    const fresh = `run-${randomUUID()}`;
    if (!idempotencyKey) return fresh;
    const key = this.store.keys.idempotency(tenant, createHash('sha256').update(idempotencyKey).digest('hex'));
    const set = await this.redis.set(key, fresh, 'EX', DAY_SECONDS, 'NX');
    return set === 'OK' ? fresh : ((await this.redis.get(key)) ?? fresh);
  }
}
