import { randomBytes } from 'node:crypto';
import {
  type ApprovalRecord,
  ApprovalStore,
  Approvals,
  type ChatMessage,
  createRedisConnection,
  DEFAULT_TENANT,
  type GoalRequestInput,
  isTerminal,
  ownKeyPrefix,
  QUEUES,
  type RedisClient,
  type RunRecord,
  RunStore,
  type StoredRunEvent,
  splitStoreRunId,
  storeRunId,
  wakeParkedStep,
} from '@triad/shared';
import {
  deleteKeys,
  type RecordedRequest,
  type Scenario,
  type ScriptedModelServer,
  startScriptedModelServer,
} from '@triad/testing';
import { type Job, Queue } from 'bullmq';
import {
  type ServiceProcess,
  type ServiceRole,
  spawnService,
  startServices,
} from '../../cli/src/stack/service-processes.js';

import { DEFAULT_WAIT_MS, type EventuallyOptions, eventually } from './eventually.js';

export const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';

/** How long a service may take to say it is ready: 3 s on a quiet machine, far more when it is busy. */
const READY_TIMEOUT_MS = 120_000;

export interface HarnessOptions {
  scenario: Scenario;
  executors?: number;
  env?: Record<string, string>;
  /** The Redis for the services and the harness; the shared one by default. */
  redisUrl?: string;
  /** Seed nodes of a Redis Cluster (`host:port,...`): the services and the harness run on it, with a hash-tagged prefix. */
  redisCluster?: string;
  /**
   * Learning from past runs (recall at the first plan, lessons distilled when a run ends). Off unless asked for, so
   * the suites of other features see only their own model calls; a tenant whose TRIAD_TENANT_LIMITS entry sets its
   * own `memory` keeps it.
   */
  memory?: boolean;
}

/** TRIAD_TENANT_LIMITS with recall and learning off for every tenant (and `*`) that does not set `memory` itself. */
export function withoutLearning(limitsJson: string | undefined): string {
  const limits = JSON.parse(limitsJson ?? '{}') as Record<string, Record<string, unknown>>;
  const off = { recall: false, learn: false };
  for (const name of new Set([...Object.keys(limits), '*'])) {
    const entry = limits[name] ?? {};
    limits[name] = entry.memory ? entry : { ...entry, memory: off };
  }
  return JSON.stringify(limits);
}

/**
 * A whole Triad for one test file: a private key prefix on the real Redis, the scripted model server, and
 * planner, executors and judge as separate processes built from this checkout.
 */
export class TriadHarness {
  readonly queues: Record<'goals' | 'act' | 'judge' | 'plan' | 'results', Queue>;
  readonly store: RunStore;
  /** Approval decisions as an operator would make them, on this harness's Redis and prefix. */
  readonly approvals: Approvals;

  private constructor(
    readonly prefix: string,
    readonly env: NodeJS.ProcessEnv,
    readonly model: ScriptedModelServer,
    readonly redis: RedisClient,
    public services: ServiceProcess[],
    private readonly executors: number,
  ) {
    // The services report Redis outages; the harness's own queues would only repeat them (a restart test).
    const q = (name: string) => new Queue(name, { connection: redis, prefix }).on('error', () => {});
    this.queues = {
      goals: q(QUEUES.goals),
      act: q(QUEUES.act),
      judge: q(QUEUES.judge),
      plan: q(QUEUES.plan),
      results: q(QUEUES.results),
    };
    this.store = new RunStore(redis, prefix);
    this.approvals = new Approvals(new ApprovalStore(redis, prefix), {
      wake: (r, s) => wakeParkedStep(this.queues.act, r, s),
    });
  }

  static async start(opts: HarnessOptions): Promise<TriadHarness> {
    const name = `t${randomBytes(4).toString('hex')}`;
    const prefix = opts.redisCluster ? `{${name}}` : name;
    const model = await startScriptedModelServer({ scenario: opts.scenario });
    const redisUrl = opts.redisUrl ?? REDIS_URL;
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      REDIS_URL: redisUrl,
      TRIAD_PREFIX: prefix,
      ...(opts.redisCluster ? { TRIAD_REDIS_CLUSTER: opts.redisCluster } : {}),
      OPENAI_BASE_URL: `${model.url}/v1`,
      OPENAI_API_KEY: 'test-key',
      TRIAD_PLANNER_MODEL: 'planner',
      TRIAD_JUDGE_MODEL: 'judge',
      TRIAD_MODEL_MAX_RETRIES: '0',
      TRIAD_JOB_ATTEMPTS: '3',
      ...opts.env,
    };
    if (!opts.memory) env.TRIAD_TENANT_LIMITS = withoutLearning(opts.env?.TRIAD_TENANT_LIMITS);
    const executors = opts.executors ?? 2;
    const services = await startServices(env, { executors, readyTimeoutMs: READY_TIMEOUT_MS });
    const redisCluster = opts.redisCluster
      ? opts.redisCluster.split(',').map((n) => ({ host: n.split(':')[0] as string, port: Number(n.split(':')[1]) }))
      : undefined;
    const redis = createRedisConnection({ redisUrl, redisCluster }, 'triad-e2e');
    return new TriadHarness(prefix, env, model, redis, services, executors);
  }

  /** Adds a goal job the way any producer would; returns the run's store id (its run id given, or from the job id). */
  async submit(request: GoalRequestInput & Record<string, unknown>, jobId?: string): Promise<string> {
    const job = await this.queues.goals.add('goal', request, jobId ? { jobId } : {});
    const runId = typeof request.runId === 'string' ? request.runId : `run-${job.id}`;
    return storeRunId(typeof request.tenant === 'string' ? request.tenant : DEFAULT_TENANT, runId);
  }

  /** Polls the run record until the run has ended. */
  waitForRun(runId: string, timeoutMs = DEFAULT_WAIT_MS): Promise<RunRecord> {
    return this.eventually(
      async () => {
        const run = await this.store.get(runId);
        return run && isTerminal(run.status) ? run : false;
      },
      { what: `run ${runId} to end`, timeoutMs },
    );
  }

  /** Waits until the run has `count` approvals pending and returns them. */
  pendingApprovals(runId: string, count = 1): Promise<ApprovalRecord[]> {
    return this.eventually(
      async () => {
        const pending = await this.approvals.listPending(splitStoreRunId(runId).tenant, { runId });
        return pending.length === count && pending;
      },
      { what: `${count} pending approval(s) in run ${runId}` },
    );
  }

  /** The model requests a script got from one role, in order. */
  modelRequests(script: string, role = 'planner'): RecordedRequest[] {
    return this.model.requests.filter((r) => r.role === role && r.script === script);
  }

  /** The conversations the planner sent to the model for a script, one per model call. */
  plannerMessages(script: string): ChatMessage[][] {
    return this.modelRequests(script).map((r) => r.body.messages as ChatMessage[]);
  }

  /** The `run.finished` job of a run on the results queue; published just after the run record ends, so waited for. */
  runFinished(runId: string): Promise<Job> {
    return this.eventually(() => this.queues.results.getJob(`finished-${runId}`), {
      what: `run.finished of ${runId} on the results queue`,
    });
  }

  /** `eventually`, with the last lines of every service's output in the error. */
  eventually<T>(
    probe: () => T | null | undefined | false | Promise<T | null | undefined | false>,
    opts: Omit<EventuallyOptions, 'context'>,
  ): Promise<T> {
    return eventually(probe, { ...opts, context: () => this.serviceLogs() });
  }

  /** The last lines of each service's output, for an error message. */
  serviceLogs(chars = 3000): string {
    return this.services.map((s) => `--- ${s.name}\n${s.output().slice(-chars)}`).join('\n');
  }

  events(runId: string): Promise<StoredRunEvent[]> {
    return this.store.events(runId);
  }

  /** Starts one more service process with this harness's environment. */
  async spawn(role: ServiceRole, name: string, env: Record<string, string> = {}): Promise<ServiceProcess> {
    const proc = await spawnService({ role, name, env: { ...this.env, ...env }, readyTimeoutMs: READY_TIMEOUT_MS });
    this.services.push(proc);
    return proc;
  }

  /** Stops every service process (gracefully) and starts planner, executors and judge again, as after a deploy. */
  async restartServices(): Promise<void> {
    await Promise.all(this.services.map((s) => s.stop()));
    this.services = await startServices(this.env, { executors: this.executors, readyTimeoutMs: READY_TIMEOUT_MS });
  }

  async stop(): Promise<void> {
    await Promise.all(this.services.map((s) => s.stop()));
    await Promise.all(Object.values(this.queues).map((q) => q.close()));
    await this.model.close();
    await deleteKeys(this.redis, this.prefix);
    if (ownKeyPrefix(this.prefix) !== this.prefix) await deleteKeys(this.redis, ownKeyPrefix(this.prefix));
    await this.redis.quit();
  }
}
