import { randomUUID } from 'node:crypto';
import {
  ConfigError,
  createRedisConnection,
  duplicateConnection,
  GoalRequest,
  loadConfig,
  QUEUES,
  RunStore,
  type TriadConfig,
} from '@triad/shared';
import { Queue } from 'bullmq';
import { followRun } from './client/follow-run.js';
import { renderEvent } from './render/event-line.js';
import { DEMO_GOAL, type LocalStack, StartStopped, startLocalStack } from './stack/local-stack.js';
import { ServiceStartError } from './stack/service-readiness.js';

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
  const args = process.argv.slice(2);
  if (args[0] === '--help' || args[0] === '-h') {
    say(
      'Usage: npm start [-- "<goal>"]\n\nStarts the local stack, runs one goal (the demo goal by default) and stops.',
    );
    say('For a stack that stays up, and the other commands: npx triad --help');
    return 0;
  }
  const goal = args.join(' ').trim() || DEMO_GOAL;
  // Every signal, at any time (even while starting), stops everything; a second one does not kill this process.
  const interrupted = new AbortController();
  for (const name of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(name, () => interrupted.abort());

  let stack: LocalStack | undefined;
  try {
    stack = await startLocalStack({ config, executors: 2, say, signal: interrupted.signal });
    if (stack.offlineModel && goal !== DEMO_GOAL) {
      say('note: the offline demo model only knows the demo goal and the example evals; other goals will fail.');
    }
    const status = await submitAndFollow(config, stack.redis.url, goal, interrupted.signal);
    return status === 'succeeded' ? 0 : 1;
  } catch (err) {
    if (err instanceof StartStopped) return fail('stopped while starting', 130);
    if (err instanceof ServiceStartError) return fail(err.describe(), 1);
    return fail((err as Error).message, 1);
  } finally {
    await stack?.stop();
  }
}

async function submitAndFollow(config: TriadConfig, redisUrl: string, goal: string, signal: AbortSignal) {
  const connection = createRedisConnection({ redisUrl, redisCluster: config.redisCluster }, 'triad-start');
  const blocking = duplicateConnection(connection, 'triad-start-follow');
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

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

function fail(message: string, code: number): number {
  process.stderr.write(`triad start: ${message}\n`);
  return code;
}

process.exit(await main());
