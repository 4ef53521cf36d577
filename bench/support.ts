// Shared plumbing of the benchmarks: private Redis servers, a Triad stack or the raw BullMQ chain as separate
// processes, a driver that keeps N runs in flight, percentiles, resident memory, and cleanup that runs even when a
// measurement fails or the bench is interrupted.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRedisConnection, ownKeyPrefix, QUEUES, type RedisClient, type RedisTarget } from '@triad/shared';
import { deleteKeys, type Scenario, type ScriptedModelServer, startScriptedModelServer } from '@triad/testing';

export { deleteKeys };

import { type JobsOptions, Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { freePort, startPrivateRedis as startLocalRedis } from '../cli/dist/stack/local-redis.js';
import { type ServiceProcess, spawnService, startServices } from '../cli/dist/stack/service-processes.js';

export const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));
export const SHARED_REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
export const PG_URL = process.env.BENCH_PG_URL || 'postgresql://postgres@127.0.0.1:5432/test';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
export const randomPrefix = (tag: string) => `bench${tag}${randomBytes(3).toString('hex')}`;

// ---------------------------------------------------------------------------------------------------------------
// Cleanup: every resource registers how to release it; the registry runs newest first, once, on any exit path.

type Cleanup = { name: string; fn: () => Promise<void> | void };
const cleanups: Cleanup[] = [];

/** Registers a cleanup; returns a function that runs it now (and unregisters it). */
export function onCleanup(name: string, fn: () => Promise<void> | void): () => Promise<void> {
  const entry = { name, fn };
  cleanups.push(entry);
  return async () => {
    const i = cleanups.indexOf(entry);
    if (i < 0) return;
    cleanups.splice(i, 1);
    await entry.fn();
  };
}

export async function runCleanups(): Promise<void> {
  while (cleanups.length) {
    const c = cleanups.pop() as Cleanup;
    try {
      await Promise.race([c.fn(), sleep(15_000)]);
    } catch (err) {
      console.error(`cleanup of ${c.name} failed: ${(err as Error).message}`);
    }
  }
}

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    console.error(`\n${signal}: cleaning up...`);
    void runCleanups().finally(() => process.exit(130));
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Redis

export interface PrivateRedis {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** A redis-server of our own on a free port, without persistence unless asked (`appendfsync`). */
export async function startPrivateRedis(opts: { appendfsync?: 'always' | 'everysec' } = {}): Promise<PrivateRedis> {
  const args = ['--loglevel', 'warning'];
  if (opts.appendfsync) args.push('--appendonly', 'yes', '--appendfsync', opts.appendfsync);
  const server = await startLocalRedis({ args });
  const stop = onCleanup(`redis-server :${server.port}`, () => server.stop());
  return { url: server.url, pid: server.pid, stop };
}

/** A gateway process on a free port of this host, over `redisUrl` and `prefix`, with `env` on top. */
export async function startGateway(
  redisUrl: string,
  prefix: string,
  env: Record<string, string> = {},
): Promise<{ gateway: ServiceProcess; port: number }> {
  const port = await freePort();
  const gateway = await spawnService({
    role: 'gateway',
    name: 'gateway',
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      REDIS_URL: redisUrl,
      TRIAD_PREFIX: prefix,
      TRIAD_GATEWAY_HOST: '127.0.0.1',
      TRIAD_GATEWAY_PORT: String(port),
      TRIAD_LOG_LEVEL: 'warn',
      ...env,
    },
  });
  return { gateway, port };
}

/** Total calls of every Redis command so far (INFO commandstats). */
export async function redisCommandCalls(redis: Redis): Promise<number> {
  const info = await redis.info('commandstats');
  let total = 0;
  for (const m of info.matchAll(/cmdstat_[^:]+:calls=(\d+)/g)) total += Number(m[1]);
  return total;
}

export async function redisUsedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? Number.NaN);
}

// ---------------------------------------------------------------------------------------------------------------
// Systems under test: each one turns a run id into a finished run, reported on its `results` queue.

export interface LoopSystem {
  name: string;
  /** Starts one run; resolves when its result is on the results queue. */
  run(runId: string, goal: string, extra?: Record<string, unknown>, jobOpts?: JobsOptions): Promise<void>;
  /** Service processes, for their resident memory. */
  pids(): number[];
  stop(): Promise<void>;
}

/** How long a run may take before the bench gives up on it (a stuck run must not hang the bench). */
const RUN_TIMEOUT_MS = 120_000;

/** Completion by consuming the system's `results` queue, the way a producer that started the runs would. */
class ResultWaiter {
  private readonly waiting = new Map<string, { resolve: () => void; reject: (e: Error) => void }>();
  private readonly worker: Worker;
  private readonly connection: RedisClient;

  constructor(target: RedisTarget | string, prefix: string) {
    // A connection passed in stays open when the worker closes: close() ends it.
    const where = typeof target === 'string' ? { redisUrl: target, redisCluster: undefined } : target;
    this.connection = createRedisConnection(where, 'bench-results');
    this.worker = new Worker(
      QUEUES.results,
      async (job) => {
        const { runId, status, error } = job.data as { runId: string; status?: string; error?: { message?: string } };
        const w = this.waiting.get(runId);
        if (!w) return;
        this.waiting.delete(runId);
        if (status && status !== 'succeeded') w.reject(new Error(`run ${runId} ended ${status}: ${error?.message}`));
        else w.resolve();
      },
      { connection: this.connection, prefix, concurrency: 1000 },
    );
  }

  /** Resolves when the run's result arrives; rejects if it failed, or if nothing came within `timeoutMs`. */
  expect(runId: string, timeoutMs = RUN_TIMEOUT_MS): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(runId);
        reject(new Error(`run ${runId}: no result after ${timeoutMs / 1000} s`));
      }, timeoutMs);
      const settle = (fn: () => void) => {
        clearTimeout(timer);
        fn();
      };
      this.waiting.set(runId, {
        resolve: () => settle(resolve),
        reject: (e) => settle(() => reject(e)),
      });
    });
  }

  async close(): Promise<void> {
    await this.worker.close();
    this.connection.disconnect();
  }
}

export interface TriadOptions {
  redisUrl?: string;
  /** Seed nodes of a Redis Cluster (`host:port,...`): the stack runs on it, with a hash-tagged prefix. */
  redisCluster?: string;
  executors?: number;
  env?: Record<string, string>;
  model: ScriptedModelServer;
  /** Only the model names of TRIAD_BASE_ENV: every tuning variable (concurrency, judge policy, retries) at its default. */
  defaults?: boolean;
  /** How long `run` waits for a result before giving up on it (default 120 s). */
  runTimeoutMs?: number;
}

export const TRIAD_BASE_ENV = {
  TRIAD_PLANNER_MODEL: 'planner',
  TRIAD_JUDGE_MODEL: 'judge',
  TRIAD_JUDGE_POLICY: 'checks',
  TRIAD_PLANNER_CONCURRENCY: '16',
  TRIAD_JUDGE_CONCURRENCY: '16',
  TRIAD_EXECUTOR_CONCURRENCY: '16',
  TRIAD_MODEL_MAX_RETRIES: '0',
};

export interface TriadStack extends LoopSystem {
  prefix: string;
  env: NodeJS.ProcessEnv;
  redis: RedisClient;
  services: ServiceProcess[];
  spawnExecutor(name: string): Promise<ServiceProcess>;
}

/** Planner, executors and judge as separate processes on a random key prefix. */
export async function startTriad(opts: TriadOptions): Promise<TriadStack> {
  const redisUrl = opts.redisUrl ?? SHARED_REDIS_URL;
  const prefix = opts.redisCluster ? `{${randomPrefix('t')}}` : randomPrefix('t');
  const redisCluster = opts.redisCluster?.split(',').map((n) => {
    const [host = '', port] = n.split(':');
    return { host, port: Number(port) };
  });
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    REDIS_URL: redisUrl,
    TRIAD_PREFIX: prefix,
    ...(opts.redisCluster ? { TRIAD_REDIS_CLUSTER: opts.redisCluster } : {}),
    OPENAI_BASE_URL: `${opts.model.url}/v1`,
    OPENAI_API_KEY: 'bench',
    ...(opts.defaults
      ? { TRIAD_PLANNER_MODEL: TRIAD_BASE_ENV.TRIAD_PLANNER_MODEL, TRIAD_JUDGE_MODEL: TRIAD_BASE_ENV.TRIAD_JUDGE_MODEL }
      : TRIAD_BASE_ENV),
    // e.g. BENCH_SERVICE_NODE_OPTIONS="--cpu-prof --cpu-prof-dir=prof" profiles every service (written when it stops).
    ...(process.env.BENCH_SERVICE_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_SERVICE_NODE_OPTIONS } : {}),
    ...opts.env,
  };
  const redis = createRedisConnection({ redisUrl, redisCluster }, 'bench');
  const removeKeys = onCleanup(`keys ${prefix}`, async () => {
    await deleteKeys(redis, prefix);
    if (ownKeyPrefix(prefix) !== prefix) await deleteKeys(redis, ownKeyPrefix(prefix));
    await redis.quit();
  });
  const services: ServiceProcess[] = [];
  const stopServices = onCleanup(`triad ${prefix}`, async () => {
    await Promise.all(services.map((s) => s.stop(5_000)));
  });
  services.push(...(await startServices(env, { executors: opts.executors ?? 1 })));
  const waiter = new ResultWaiter({ redisUrl, redisCluster }, prefix);
  const closeWaiter = onCleanup(`results ${prefix}`, () => waiter.close());
  const goals = new Queue(QUEUES.goals, { connection: redis, prefix });
  const closeGoals = onCleanup(`goals ${prefix}`, () => goals.close());
  return {
    name: 'triad',
    prefix,
    env,
    redis,
    services,
    async run(runId, goal, extra = {}, jobOpts = {}) {
      const done = waiter.expect(runId, opts.runTimeoutMs);
      await goals.add('goal', { goal, runId, ...extra }, jobOpts);
      await done;
    },
    pids: () =>
      services
        .filter((s) => s.child.exitCode === null && s.child.signalCode === null)
        .map((s) => s.child.pid as number),
    async spawnExecutor(name) {
      const proc = await spawnService({ role: 'executor', name, env });
      services.push(proc);
      return proc;
    },
    async stop() {
      await closeGoals();
      await closeWaiter();
      await stopServices();
      await removeKeys();
    },
  };
}

/** The baseline: plain BullMQ workers with no-op handlers in three processes (bench/raw-bullmq). */
export async function startRaw(opts: { redisUrl?: string; concurrency?: number } = {}): Promise<LoopSystem> {
  const redisUrl = opts.redisUrl ?? SHARED_REDIS_URL;
  const prefix = randomPrefix('r');
  const redis = createRedisConnection(redisUrl, 'bench-raw');
  const removeKeys = onCleanup(`keys ${prefix}`, async () => {
    await deleteKeys(redis, prefix);
    await redis.quit();
  });
  const children: ChildProcess[] = [];
  const stopChildren = onCleanup(`raw ${prefix}`, () => Promise.all(children.map((c) => stopChild(c))).then(() => {}));
  const env = {
    ...process.env,
    REDIS_URL: redisUrl,
    RAW_PREFIX: prefix,
    RAW_CONCURRENCY: String(opts.concurrency ?? 16),
  };
  for (const role of ['planner', 'executor', 'judge']) {
    children.push(await spawnReady(join(BENCH_DIR, 'raw-bullmq', `${role}.ts`), env, /ready/));
  }
  const waiter = new ResultWaiter(redisUrl, prefix);
  const closeWaiter = onCleanup(`results ${prefix}`, () => waiter.close());
  const goals = new Queue('goals', { connection: redis, prefix });
  const closeGoals = onCleanup(`goals ${prefix}`, () => goals.close());
  return {
    name: 'raw',
    async run(runId, goal) {
      const done = waiter.expect(runId);
      await goals.add('goal', { goal, runId });
      await done;
    },
    pids: () => children.map((c) => c.pid as number),
    async stop() {
      await closeGoals();
      await closeWaiter();
      await stopChildren();
      await removeKeys();
    },
  };
}

/** Spawns `node <script>` and waits for a line matching `ready`. The caller registers the cleanup. */
export async function spawnReady(script: string, env: NodeJS.ProcessEnv, ready: RegExp): Promise<ChildProcess> {
  const child = spawn(process.execPath, [script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const ok = new Promise<void>((resolve, reject) => {
    const onData = (c: Buffer) => {
      output += c.toString();
      if (output.length > 100_000) output = output.slice(-50_000);
      if (ready.test(output)) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}:\n${output.slice(-4000)}`)));
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  try {
    await ok;
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  } finally {
    clearTimeout(timer);
  }
  return child;
}

export async function stopChild(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

// ---------------------------------------------------------------------------------------------------------------
// Driving runs

export interface DriveResult {
  runs: number;
  wallMs: number;
  perSec: number;
  /** Submit-to-result latency of each run, ms, sorted. */
  latencies: number[];
}

let runCounter = 0;
/** A run id unique within this bench process. */
export const nextRunId = (tag: string) => `${tag}-${++runCounter}`;

/** Runs `total` runs keeping `inFlight` of them started at any time; measures wall time and each latency. */
export async function drive(
  total: number,
  inFlight: number,
  runOne: (runId: string) => Promise<void>,
  tag = 'b',
): Promise<DriveResult> {
  const latencies: number[] = [];
  let started = 0;
  const t0 = performance.now();
  const lane = async () => {
    while (started < total) {
      started++;
      const s = performance.now();
      await runOne(nextRunId(tag));
      latencies.push(performance.now() - s);
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, total) }, lane));
  const wallMs = performance.now() - t0;
  latencies.sort((a, b) => a - b);
  return { runs: total, wallMs, perSec: total / (wallMs / 1000), latencies };
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export function median(values: number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

export async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return kb / 1024;
}

// ---------------------------------------------------------------------------------------------------------------
// The scripted model and the loop it drives

/** The loop every comparison uses: one calculator call, then the answer (plan -> act -> judge -> plan -> judge). */
export function loopScript(match: string, delayMs = 0) {
  return {
    name: match,
    match,
    turnBy: { planner: 'assistantMessages' as const },
    turns: {
      planner: [
        {
          content: 'One sum.',
          toolCalls: [{ id: 'c1', name: 'calculator', arguments: { expression: '1 + 2' } }],
          ...(delayMs ? { delayMs } : {}),
        },
        { content: 'The sum is 3.', ...(delayMs ? { delayMs } : {}) },
      ],
    },
  };
}

/** loopScript with every reply after `delayMs`, the judge's review included (it accepts). */
export function acceptingLoopScript(match: string, delayMs: number) {
  const accept = { content: JSON.stringify({ verdict: 'accept', critique: '' }), delayMs };
  const planner = loopScript(match, delayMs);
  // The judge's review request holds no assistant message, so every review gets turn 0 however often it is asked.
  return {
    ...planner,
    turnBy: { ...planner.turnBy, judge: 'assistantMessages' as const },
    turns: { ...planner.turns, judge: [accept] },
  };
}

export async function startModel(scripts: Scenario['scripts']): Promise<ScriptedModelServer> {
  const model = await startScriptedModelServer({ scenario: { scripts } });
  onCleanup('scripted model', () => model.close());
  // The server records every request: drop them now and then so a long bench does not grow.
  const timer = setInterval(() => model.reset(), 5_000);
  onCleanup('scripted model reset timer', () => clearInterval(timer));
  return model;
}

/** An OTLP/HTTP receiver that accepts and counts, so the exporters have somewhere real to send to. */
export async function startOtlpSink(): Promise<{ url: string; requests: () => number; bytes: () => number }> {
  let requests = 0;
  let bytes = 0;
  const server = createServer((req, res) => {
    req.on('data', (c: Buffer) => {
      bytes += c.length;
    });
    req.on('end', () => {
      requests++;
      const json = (req.headers['content-type'] ?? '').includes('json');
      res
        .writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' })
        .end(json ? '{}' : '');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  onCleanup('otlp sink', async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: () => requests,
    bytes: () => bytes,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Report

export interface BenchOptions {
  quick: boolean;
}

export interface Row {
  measure: string;
  value: string;
  note?: string;
}

export const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : String(n));
export const round = (n: number, digits = 3) => Number(n.toFixed(digits));

export function printTable(rows: Row[]): void {
  const w0 = Math.max(...rows.map((r) => r.measure.length), 7);
  const w1 = Math.max(...rows.map((r) => r.value.length), 5);
  console.log(`${'measure'.padEnd(w0)}  ${'value'.padStart(w1)}  note`);
  console.log(`${'-'.repeat(w0)}  ${'-'.repeat(w1)}  ${'-'.repeat(40)}`);
  for (const r of rows) console.log(`${r.measure.padEnd(w0)}  ${r.value.padStart(w1)}  ${r.note ?? ''}`);
}

export const log = (msg: string) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}`);

/** One line naming the machine and the versions measured, and the load when the bench started. */
export async function describeMachine(): Promise<{ line: string; loadAvg1m: number }> {
  const { availableParallelism, loadavg } = await import('node:os');
  const version = async (pkg: string) => {
    const text = await readFile(join(BENCH_DIR, '..', 'node_modules', pkg, 'package.json'), 'utf8').catch(() => '');
    return text ? (JSON.parse(text) as { version: string }).version : '?';
  };
  const redis = createRedisConnection(SHARED_REDIS_URL, 'bench-info');
  const redisVersion = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? '?';
  redis.disconnect();
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: PG_URL });
  const pgVersion = await client
    .connect()
    .then(() => client.query('show server_version'))
    .then((r) => String(r.rows[0].server_version).split(' ')[0])
    .catch(() => 'unreachable')
    .finally(() => client.end().catch(() => {}));
  const loadAvg1m = loadavg()[0];
  const line =
    `${availableParallelism()} cores, load ${fmt(loadAvg1m, 2)} at start · Node ${process.version} · ` +
    `BullMQ ${await version('bullmq')} · Redis ${redisVersion} · LangGraph ${await version('@langchain/langgraph')} ` +
    `(checkpoint-postgres ${await version('@langchain/langgraph-checkpoint-postgres')}) · PostgreSQL ${pgVersion}`;
  return { line, loadAvg1m };
}
