import { randomUUID } from 'node:crypto';
import {
  ConfigError,
  createRedisConnection,
  GoalRequest,
  loadConfig,
  QUEUES,
  RunStore,
  type TriadConfig,
} from '@triad/shared';
import { loadScenarioFile, type ScriptedModelServer, startScriptedModelServer } from '@triad/testing';
import { Queue } from 'bullmq';
import { followRun } from './client/follow-run.js';
import { renderEvent } from './render/event-line.js';
import { ensureRedis, type RedisHandle } from './stack/local-redis.js';
import { REPO_ROOT, type ServiceProcess, startServices } from './stack/service-processes.js';

export const DEMO_GOAL = 'Which city in the example data has the highest population density, and what is it?';
const DEMO_SCENARIO = `${REPO_ROOT}examples/demo/scenario.json`;

/**
 * The main job: a local Redis if none answers, the offline scripted model when no model is configured, planner,
 * two executors and judge as separate processes; submits one goal, shows the loop live, prints the answer.
 * Exits 0 when the run succeeded, 1 otherwise.
 */
async function main(): Promise<number> {
  let config: TriadConfig;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) return fail(err.message, 2);
    throw err;
  }
  const goal = process.argv.slice(2).join(' ').trim() || DEMO_GOAL;
  const cleanup: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const step of cleanup.reverse()) await step().catch(() => {});
    cleanup.length = 0;
  };
  const interrupted = new AbortController();
  process.once('SIGINT', () => interrupted.abort());
  process.once('SIGTERM', () => interrupted.abort());

  try {
    const redis: RedisHandle = await ensureRedis(config.redisUrl);
    cleanup.push(() => redis.stop());
    say(redis.started ? `started a private redis-server at ${redis.url}` : `using Redis at ${redis.url}`);

    const env: NodeJS.ProcessEnv = { ...process.env, REDIS_URL: redis.url };
    if (!config.model.apiKey && !config.model.baseUrl) {
      const model: ScriptedModelServer = await startScriptedModelServer({
        scenario: await loadScenarioFile(DEMO_SCENARIO),
      });
      cleanup.push(() => model.close());
      Object.assign(env, {
        OPENAI_BASE_URL: `${model.url}/v1`,
        TRIAD_PLANNER_MODEL: 'planner',
        TRIAD_JUDGE_MODEL: 'judge',
      });
      banner(goal === DEMO_GOAL);
    } else {
      say(`model: ${config.model.plannerModel} (planner), ${config.model.judgeModel} (judge)`);
    }

    const services: ServiceProcess[] = await startServices(env, {
      executors: 2,
      onLine: (line, name) =>
        /\b(ERROR|WARN)\b/.test(line) && say(`[${name}] ${line.replace(/^.*?(ERROR|WARN)/, '$1')}`),
    });
    cleanup.push(async () => {
      await Promise.all(services.map((s) => s.stop()));
    });
    say(`started ${services.map((s) => `${s.name} (pid ${s.child.pid})`).join(', ')}\n`);

    const status = await submitAndFollow(config, redis.url, goal, interrupted.signal);
    return status === 'succeeded' ? 0 : 1;
  } catch (err) {
    return fail((err as Error).message, 1);
  } finally {
    await stopAll();
  }
}

async function submitAndFollow(config: TriadConfig, redisUrl: string, goal: string, signal: AbortSignal) {
  const connection = createRedisConnection(redisUrl, 'triad-start');
  const blocking = connection.duplicate();
  const goals = new Queue(QUEUES.goals, { connection, prefix: config.prefix });
  const store = new RunStore(connection, config.prefix);
  try {
    const runId = `demo-${randomUUID()}`;
    const request = GoalRequest.parse({ goal, runId, budget: { maxIterations: 8 } });
    await goals.add('goal', request, { jobId: `goal-${runId}` });
    say(`submitted run ${runId}`);
    const started = Date.now();
    const status = await followRun(
      store,
      blocking,
      runId,
      (e) => {
        for (const line of renderEvent(e)) say(line);
      },
      {
        timeoutMs: request.budget.timeoutMs + 30_000,
        signal,
      },
    );
    const run = await store.get(runId);
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    if (run && status === run.status) {
      const u = run.usage;
      say(
        `\n${run.status} in ${seconds} s · ${run.iteration} iterations · ${u.toolCalls} tool calls · ${u.inputTokens + u.outputTokens} tokens`,
      );
      if (run.answer) say(`\nAnswer: ${run.answer}`);
      if (run.error) say(`\nError (${run.error.code}): ${run.error.message}`);
    } else {
      say(`\nstopped waiting: ${status}`);
    }
    return status;
  } finally {
    await goals.close();
    blocking.disconnect();
    await connection.quit();
  }
}

function banner(isDemoGoal: boolean): void {
  say('┌──────────────────────────────────────────────────────────────────────┐');
  say('│ offline demo model: no OPENAI_API_KEY set, so a scripted model       │');
  say('│ replays examples/demo/scenario.json. Tools, queues and the judge are │');
  say('│ real. Set OPENAI_API_KEY (and OPENAI_BASE_URL) for a real model.     │');
  say('└──────────────────────────────────────────────────────────────────────┘');
  if (!isDemoGoal) say('note: the offline demo model only knows the demo goal; other goals will fail.');
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

function fail(message: string, code: number): number {
  process.stderr.write(`triad start: ${message}\n`);
  return code;
}

process.exit(await main());
