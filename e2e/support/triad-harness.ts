import { randomBytes } from 'node:crypto';
import {
  createRedisConnection,
  type GoalRequestInput,
  isTerminal,
  QUEUES,
  type RunRecord,
  RunStore,
  type StoredRunEvent,
} from '@triad/shared';
import { type Scenario, type ScriptedModelServer, startScriptedModelServer } from '@triad/testing';
import { Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { DEFAULT_WAIT_MS, type EventuallyOptions, eventually } from './eventually.js';
import {
  type ServiceProcess,
  type ServiceRole,
  spawnService,
  startServices,
} from '../../cli/src/stack/service-processes.js';

export const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';

export interface HarnessOptions {
  scenario: Scenario;
  executors?: number;
  env?: Record<string, string>;
  /** The Redis for the services and the harness; the shared one by default. */
  redisUrl?: string;
}

/**
 * A whole Triad for one test file: a private key prefix on the real Redis, the scripted model server, and
 * planner, executors and judge as separate processes built from this checkout.
 */
export class TriadHarness {
  readonly queues: Record<'goals' | 'act' | 'judge' | 'plan' | 'results', Queue>;
  readonly store: RunStore;

  private constructor(
    readonly prefix: string,
    readonly env: NodeJS.ProcessEnv,
    readonly model: ScriptedModelServer,
    readonly redis: Redis,
    public services: ServiceProcess[],
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
  }

  static async start(opts: HarnessOptions): Promise<TriadHarness> {
    const prefix = `t${randomBytes(4).toString('hex')}`;
    const model = await startScriptedModelServer({ scenario: opts.scenario });
    const redisUrl = opts.redisUrl ?? REDIS_URL;
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      REDIS_URL: redisUrl,
      TRIAD_PREFIX: prefix,
      OPENAI_BASE_URL: `${model.url}/v1`,
      OPENAI_API_KEY: 'test-key',
      TRIAD_PLANNER_MODEL: 'planner',
      TRIAD_JUDGE_MODEL: 'judge',
      TRIAD_MODEL_MAX_RETRIES: '0',
      TRIAD_JOB_ATTEMPTS: '3',
      ...opts.env,
    };
    const services = await startServices(env, { executors: opts.executors ?? 2 });
    return new TriadHarness(prefix, env, model, createRedisConnection(redisUrl, 'triad-e2e'), services);
  }

  /** Adds a goal job the way any producer would; returns the run id (given, or derived from the job id). */
  async submit(request: GoalRequestInput & Record<string, unknown>, jobId?: string): Promise<string> {
    const job = await this.queues.goals.add('goal', request, jobId ? { jobId } : {});
    return typeof request.runId === 'string' ? request.runId : `run-${job.id}`;
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
    const proc = await spawnService({ role, name, env: { ...this.env, ...env } });
    this.services.push(proc);
    return proc;
  }

  /** A QueueEvents listener on one of the harness queues (close it yourself). */
  queueEvents(name: string): QueueEvents {
    return new QueueEvents(name, { connection: this.redis.duplicate(), prefix: this.prefix });
  }

  async stop(): Promise<void> {
    await Promise.all(this.services.map((s) => s.stop()));
    await Promise.all(Object.values(this.queues).map((q) => q.close()));
    await this.model.close();
    await this.deleteKeys();
    await this.redis.quit();
  }

  private async deleteKeys(): Promise<void> {
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${this.prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await this.redis.del(...keys);
    } while (cursor !== '0');
  }
}
