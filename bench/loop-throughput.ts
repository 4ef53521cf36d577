// Throughput and latency of the whole loop: R runs submitted at once, each two iterations (two parallel calculator
// calls, then an answer), against planner, E executors and judge as separate processes, the scripted model and
// the real Redis. Prints figures; asserts nothing. Run: `npm run bench -- [runs] [executors]`.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRedisConnection, isTerminal, RunStore } from '@triad/shared';
import { startScriptedModelServer } from '@triad/testing';
import { Queue } from 'bullmq';
import { startServices } from '../cli/dist/stack/service-processes.js';

const RUNS = Number(process.argv[2] ?? 200);
const EXECUTORS = Number(process.argv[3] ?? 2);
const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const prefix = `bench${randomBytes(3).toString('hex')}`;

const model = await startScriptedModelServer({
  scenario: {
    scripts: [
      {
        name: 'bench',
        turnBy: { planner: 'assistantMessages' },
        turns: {
          planner: [
            {
              content: 'Two sums.',
              toolCalls: [
                { name: 'calculator', arguments: { expression: '1 + 2' } },
                { name: 'calculator', arguments: { expression: '3 * 4' } },
              ],
            },
            { content: 'Done.' },
          ],
        },
      },
    ],
  },
});
const env = {
  ...process.env,
  REDIS_URL: redisUrl,
  TRIAD_PREFIX: prefix,
  OPENAI_BASE_URL: `${model.url}/v1`,
  OPENAI_API_KEY: 'bench',
  TRIAD_PLANNER_MODEL: 'planner',
  TRIAD_JUDGE_POLICY: 'checks',
  TRIAD_PLANNER_CONCURRENCY: '16',
  TRIAD_JUDGE_CONCURRENCY: '16',
  TRIAD_EXECUTOR_CONCURRENCY: '16',
};
const services = await startServices(env, { executors: EXECUTORS });
const redis = createRedisConnection(redisUrl, 'bench');
const store = new RunStore(redis, prefix);
const goals = new Queue('goals', { connection: redis, prefix });

try {
  const t0 = performance.now();
  const ids = Array.from({ length: RUNS }, (_, i) => `b${i}`);
  await goals.addBulk(ids.map((runId) => ({ name: 'goal', data: { goal: `bench ${runId}`, runId } })));
  const latencies: number[] = [];
  const pending = new Set(ids);
  while (pending.size) {
    for (const id of [...pending]) {
      const run = await store.get(id);
      if (run && isTerminal(run.status)) {
        if (run.status !== 'succeeded') throw new Error(`run ${id} ended ${run.status}: ${run.error?.message}`);
        latencies.push((run.finishedAt ?? run.updatedAt) - run.createdAt);
        pending.delete(id);
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const seconds = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))];
  const rss = await Promise.all(services.map(async (s) => `${s.name} ${await rssMiB(s.child.pid)} MiB`));
  console.log(`runs: ${RUNS} (2 iterations, 2 parallel tool calls, 2 model calls each), executors: ${EXECUTORS}`);
  console.log(
    `wall time: ${seconds.toFixed(2)} s · throughput: ${(RUNS / seconds).toFixed(1)} runs/s · ${((RUNS * 6) / seconds).toFixed(0)} jobs/s`,
  );
  console.log(`run latency (intake to end): p50 ${pct(50)} ms · p95 ${pct(95)} ms · max ${latencies.at(-1)} ms`);
  console.log(`model requests: ${model.requests.length} · resident memory after: ${rss.join(', ')}`);
} finally {
  await goals.close();
  await Promise.all(services.map((s) => s.stop()));
  await model.close();
  const keys = await redis.keys(`${prefix}:*`);
  for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500));
  await redis.quit();
}

async function rssMiB(pid: number | undefined): Promise<string> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return Number.isNaN(kb) ? '?' : (kb / 1024).toFixed(0);
}
