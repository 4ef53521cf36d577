import { createHash, randomUUID } from 'node:crypto';
import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable } from '@nestjs/common';
import {
  addJob,
  GoalBacklog,
  type GoalRequest,
  JOB_NAMES,
  jobIds,
  modelRefusal,
  QUEUES,
  type RedisClient,
  RUN_REDIS,
  RunStore,
  type SubmitRunResponse,
  storeRunId,
  TRIAD_CONFIG,
  type TriadConfig,
  tenantLimits,
} from '@triad/shared';
import type { Queue } from 'bullmq';
import { ApiException } from '../http/api-exception.js';

const DAY_SECONDS = 24 * 3600;

/**
 * Turns an accepted GoalRequest (its tenant set to the caller's) into a `goal` job. The run id is the body's runId,
 * else the run an Idempotency-Key was first used for in the tenant, else a new one; every replica agrees through
 * SET NX in Redis. Run ids and Idempotency-Keys are the tenant's own: the same one in two tenants is two runs. The job
 * gets its tenant's fair priority (GoalBacklog), so one tenant's flood of goals does not hold another's at intake.
 */
@Injectable()
export class RunSubmissionService {
  constructor(
    private readonly store: RunStore,
    @Inject(RUN_REDIS) private readonly redis: RedisClient,
    @InjectQueue(QUEUES.goals) private readonly goals: Queue,
    private readonly backlog: GoalBacklog,
    @Inject(TRIAD_CONFIG) private readonly config: TriadConfig,
  ) {}

  /** Enqueues the goal (once per run id); `created` is false when this run was submitted before. */
  async submit(request: GoalRequest & { tenant: string }, idempotencyKey: string | null): Promise<SubmitRunResponse> {
    const refused = modelRefusal(this.config, request);
    if (refused) throw new ApiException('invalid_request', refused, [{ path: 'model', message: refused }]);
    const runId = request.runId ?? (await this.runIdFor(request.tenant, idempotencyKey));
    const storeId = storeRunId(request.tenant, runId);
    const exists = (await this.store.get(storeId)) !== null;
    // A run id is claimed once; the claim outlives the goal job's stay in the queue.
    const claimed =
      !exists && (await this.redis.set(this.store.keys.submitted(storeId), '1', 'EX', DAY_SECONDS, 'NX')) === 'OK';
    // Re-adding is harmless (deterministic job id) and covers a crash between the claim and the add; only the claim
    // takes a place in the tenant's backlog (a repeat's priority does not matter: its job, if any, is there already).
    if (!exists) {
      const [priority] = claimed
        ? await this.backlog.priorities(request.tenant, 1, tenantLimits(this.config, request.tenant).weight)
        : [1];
      const opts = { jobId: jobIds.goal(storeId), priority };
      await addJob(this.goals, JOB_NAMES.goal, { ...request, runId }, opts);
    }
    return { runId, created: claimed, url: `/v1/runs/${runId}` };
  }

  /** Whether a run (by store id) was submitted but not yet taken in by a planner. */
  async isPending(storeId: string): Promise<boolean> {
    // A goal job taken in stays (completed) for the retention, after its run's data may have expired.
    const state = await this.goals.getJobState(jobIds.goal(storeId));
    return state !== 'unknown' && state !== 'completed' && state !== 'failed';
  }

  private async runIdFor(tenant: string, idempotencyKey: string | null): Promise<string> {
    const fresh = `run-${randomUUID()}`;
    if (!idempotencyKey) return fresh;
    const key = this.store.keys.idempotency(tenant, createHash('sha256').update(idempotencyKey).digest('hex'));
    const set = await this.redis.set(key, fresh, 'PX', this.config.runData.idempotencyMs, 'NX');
    return set === 'OK' ? fresh : ((await this.redis.get(key)) ?? fresh);
  }
}
