// 64 parallel 200 ms tool calls (http_get against a local server that answers after 200 ms), with 1 executor and
// with 4, each executor at concurrency 16: one executor needs four waves, four executors one.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RunStore } from '@triad/shared';
import { type BenchOptions, fmt, log, median, nextRunId, onCleanup, round, startModel, startTriad } from './support.ts';

const CALLS = 64;
const TOOL_MS = 200;
const CONCURRENCY = 16;

async function startSlowServer(delayMs: number): Promise<string> {
  const server = createServer((req, res) => {
    req.resume();
    setTimeout(() => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok'), delayMs);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  onCleanup('slow server', async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export async function measureExecutorScaling(opts: BenchOptions) {
  const repeats = opts.quick ? 2 : 5;
  const url = await startSlowServer(TOOL_MS);
  const model = await startModel([
    {
      name: 'fanout',
      match: 'goal:fanout',
      turnBy: { planner: 'assistantMessages' },
      turns: {
        planner: [
          {
            content: 'Fetch them all.',
            toolCalls: Array.from({ length: CALLS }, (_, i) => ({
              id: `g${i}`,
              name: 'http_get',
              arguments: { url: `${url}/item/${i}`, bearerToken: null },
            })),
          },
          { content: 'Fetched.' },
        ],
      },
    },
  ]);

  const phase = async (executors: number) => {
    log(`executor scaling: ${executors} executor(s), ${repeats} runs of ${CALLS} x ${TOOL_MS} ms calls`);
    const triad = await startTriad({
      model,
      executors,
      env: { TRIAD_EXECUTOR_CONCURRENCY: String(CONCURRENCY), TRIAD_HTTP_ALLOW_HOSTS: '127.0.0.1' },
    });
    try {
      const store = new RunStore(triad.redis, triad.prefix);
      // Every executor publishes its tools when it starts; a warm-up run also warms the HTTP agents.
      const acts: number[] = [];
      const runs: number[] = [];
      for (let i = 0; i <= repeats; i++) {
        const runId = nextRunId('fan');
        const t0 = performance.now();
        await triad.run(runId, 'goal:fanout', { budget: { maxToolCalls: 1000 } });
        const wall = performance.now() - t0;
        const events = await store.events(runId);
        const called = events.filter((e) => e.type === 'tool.called').map((e) => e.at);
        const observed = events.filter((e) => e.type === 'observation').map((e) => e.at);
        if (observed.length !== CALLS) throw new Error(`run ${runId}: ${observed.length} observations`);
        if (i === 0) continue;
        acts.push(Math.max(...observed) - Math.min(...called));
        runs.push(wall);
      }
      return { act: median(acts), run: median(runs) };
    } finally {
      await triad.stop();
    }
  };

  const one = await phase(1);
  const four = await phase(4);
  return {
    figures: {
      executorSpeedup4: round(one.act / four.act, 2),
      executorActMs1: round(one.act, 0),
      executorActMs4: round(four.act, 0),
      executorRunSpeedup4: round(one.run / four.run, 2),
    },
    rows: [
      {
        measure: '64 x 200 ms tool calls, 1 executor',
        value: `${fmt(one.act, 0)} ms`,
        note: `decision to last observation (median of ${repeats}); whole run ${fmt(one.run, 0)} ms; concurrency ${CONCURRENCY}`,
      },
      {
        measure: '64 x 200 ms tool calls, 4 executors',
        value: `${fmt(four.act, 0)} ms`,
        note: `same; whole run ${fmt(four.run, 0)} ms`,
      },
      {
        measure: 'executor speedup (4 vs 1)',
        value: fmt(one.act / four.act, 2),
        note: `target >= 3.6; ideal 4 (800 ms vs 200 ms); whole-run speedup ${fmt(one.run / four.run, 2)}`,
      },
    ],
  };
}
