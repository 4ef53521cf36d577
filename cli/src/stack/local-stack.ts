import type { TriadConfig } from '@triad/shared';
import { loadScenarioFile, startScriptedModelServer } from '@triad/testing';
import { ensureCluster, ensureRedis, type RedisHandle } from './local-redis.js';
import { REPO_ROOT, type ServiceProcess, spawnService, startServices } from './service-processes.js';
import { shorten } from './service-readiness.js';

export const DEMO_GOAL = 'Which city in the example data has the highest population density, and what is it?';
/** The offline demo model's scenario: the demo goal and the example evals over examples/workspace. */
export const DEMO_SCENARIO = `${REPO_ROOT}examples/demo/scenario.json`;

export interface LocalStackOptions {
  config: TriadConfig;
  executors?: number;
  /** Also start the HTTP gateway, listening on this port. */
  gatewayPort?: number;
  /** Progress lines for the terminal. */
  say: (line: string) => void;
  /** Aborting stops the start at any point: whatever was started is stopped and the start fails. */
  signal?: AbortSignal;
}

export interface LocalStack {
  redis: RedisHandle;
  /** The environment the services run with (Redis and model settings filled in). */
  env: NodeJS.ProcessEnv;
  services: ServiceProcess[];
  /** Where the gateway answers, when one was started. */
  gatewayUrl: string | null;
  /** True when the scripted demo model stands in for a real one. */
  offlineModel: boolean;
  /** Stops everything this stack started, in reverse order. */
  stop(): Promise<void>;
}

/**
 * Starts the local stack: the Redis Cluster of TRIAD_REDIS_CLUSTER, else the Redis at REDIS_URL or a private one, the offline scripted model when no model is
 * configured, planner, executors and judge (and the gateway when asked) as separate processes.
 */
export async function startLocalStack(opts: LocalStackOptions): Promise<LocalStack> {
  const { config, say, signal } = opts;
  const cleanup: (() => Promise<void>)[] = [];
  const notStopped = () => {
    if (signal?.aborted) throw new StartStopped();
  };
  const stop = async () => {
    for (const step of cleanup.reverse()) await step().catch(() => {});
    cleanup.length = 0;
  };
  try {
    const cluster = config.redisCluster?.map((n) => `${n.host}:${n.port}`).join(',');
    const redis = cluster ? await ensureCluster(config) : await ensureRedis(config.redisUrl);
    cleanup.push(() => redis.stop());
    notStopped();
    if (cluster) say(`using the Redis Cluster at ${cluster} (prefix ${config.prefix})`);
    else say(redis.started ? `started a private redis-server at ${redis.url}` : `using Redis at ${redis.url}`);

    const env: NodeJS.ProcessEnv = { ...process.env, REDIS_URL: redis.url };
    const offlineModel = !config.model.apiKey && !config.model.baseUrl;
    if (offlineModel) {
      const model = await startScriptedModelServer({ scenario: await loadScenarioFile(DEMO_SCENARIO) });
      cleanup.push(() => model.close());
      Object.assign(env, {
        OPENAI_BASE_URL: `${model.url}/v1`,
        TRIAD_PLANNER_MODEL: 'planner',
        TRIAD_JUDGE_MODEL: 'judge',
      });
      for (const line of offlineModelBanner()) say(line);
    } else {
      say(`model: ${config.model.plannerModel} (planner), ${config.model.judgeModel} (judge)`);
    }
    notStopped();

    // Warnings and errors of the services (JSON log lines, or plain text such as a crash's) reach the terminal.
    const onLine = (line: string, name: string) => {
      const short = shorten(line);
      if (/^(warn|error|fatal):|^\w*Error\b/.test(short)) say(`[${name}] ${short}`);
    };
    const onWaiting = (name: string, detail: string) => say(`waiting for ${name} to be ready (${detail})`);
    const executors = opts.executors ?? 2;
    const roles = ['planner', `${executors} executor(s)`, 'judge'];
    say(`starting ${roles.join(', ')}: each is ready once connected to Redis and consuming its queue…`);
    const envOf = metricsPorts(config, executors, opts.gatewayPort !== undefined, say);
    const services = await startServices(env, { executors, onLine, onWaiting, signal, envOf });
    cleanup.push(async () => {
      await Promise.all(services.map((s) => s.stop()));
    });
    let gatewayUrl: string | null = null;
    if (opts.gatewayPort !== undefined) {
      const gatewayEnv = { ...env, ...envOf('gateway'), TRIAD_GATEWAY_PORT: String(opts.gatewayPort) };
      services.push(await spawnService({ role: 'gateway', env: gatewayEnv, onLine, onWaiting, signal }));
      gatewayUrl = `http://127.0.0.1:${opts.gatewayPort}`;
    }
    notStopped();
    say(`started ${services.map((s) => `${s.name} (pid ${s.child.pid})`).join(', ')}\n`);
    return { redis, env, services, gatewayUrl, offlineModel, stop };
  } catch (err) {
    await stop();
    throw signal?.aborted ? new StartStopped() : err;
  }
}

/**
 * Processes on one host cannot share a port: with TRIAD_METRICS_PORT set, each service gets its own, counting up
 * from it (planner, executors, judge, gateway), and the list is shown.
 */
function metricsPorts(config: TriadConfig, executors: number, gateway: boolean, say: (line: string) => void) {
  const { metricsPort: base, metricsHost: host } = config.telemetry;
  if (base <= 0) return () => ({});
  const names = ['planner', ...Array.from({ length: executors }, (_, i) => `executor-${i + 1}`), 'judge'];
  if (gateway) names.push('gateway');
  const shown = names.map((n, i) => `${n} :${base + i}`).join(', ');
  say(`metrics (Prometheus text at /metrics on ${host}): ${shown}`);
  return (name: string) => ({ TRIAD_METRICS_PORT: String(base + Math.max(0, names.indexOf(name))) });
}

/** The start was given up because its signal was aborted (Ctrl-C, SIGTERM): not a failure to report. */
export class StartStopped extends Error {
  constructor() {
    super('stopped while starting');
    this.name = 'StartStopped';
  }
}

/** The notice shown when the offline scripted model stands in for a real one. */
export function offlineModelBanner(): string[] {
  return [
    '┌──────────────────────────────────────────────────────────────────────┐',
    '│ offline demo model: no OPENAI_API_KEY set, so a scripted model       │',
    '│ replays examples/demo/scenario.json. Tools, queues and the judge are │',
    '│ real. Set OPENAI_API_KEY (and OPENAI_BASE_URL) for a real model.     │',
    '└──────────────────────────────────────────────────────────────────────┘',
  ];
}
