// The same scripted loop (planner -> calculator -> judge -> planner -> judge) with 100 runs in flight: LangGraph.js
// with its PostgreSQL checkpointer (durability "sync": a checkpoint committed after every step) in one process,
// against Triad's three processes on a private Redis with an append-only file fsynced on every write
// (appendfsync always), so both sides are durable after every step. Triad on a Redis without persistence is shown
// beside it for reference.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import {
  BENCH_DIR,
  type BenchOptions,
  fmt,
  log,
  loopScript,
  onCleanup,
  PG_URL,
  round,
  startModel,
  startPrivateRedis,
  startTriad,
} from './support.ts';
import { loopsPerSec } from './throughput.ts';

const IN_FLIGHT = 100;

interface GraphResult {
  wallMs: number;
  perSec: number;
  p50: number;
  checkpoints: number;
  rssMb: number;
}

async function runLangGraph(env: NodeJS.ProcessEnv): Promise<GraphResult> {
  const child = spawn(process.execPath, [join(BENCH_DIR, 'langgraph', 'graph-runner.ts')], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stop = onCleanup('langgraph runner', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    out += c.toString();
  });
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  await stop();
  const line = out.trim().split('\n').at(-1) ?? '';
  if (code !== 0 || !line.startsWith('{'))
    throw new Error(`LangGraph runner exited with ${code}:\n${out.slice(-4000)}`);
  return JSON.parse(line) as GraphResult;
}

export async function measureVsLangGraph(opts: BenchOptions) {
  const total = opts.quick ? 200 : 500;
  const model = await startModel([loopScript('goal:loop')]);

  const schema = `bench_lg_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  onCleanup(`postgres schema ${schema}`, async () => {
    await admin.query(`drop schema if exists "${schema}" cascade`);
    await admin.end();
  });
  await admin.query(`create schema "${schema}"`);
  log(`vs LangGraph: LangGraph + PostgresSaver, ${total} runs, ${IN_FLIGHT} in flight`);
  const graph = await runLangGraph({
    ...process.env,
    LG_MODEL_URL: `${model.url}/v1`,
    LG_PG_URL: PG_URL,
    LG_PG_SCHEMA: schema,
    LG_RUNS: String(total),
    LG_IN_FLIGHT: String(IN_FLIGHT),
  });

  log(`vs LangGraph: Triad on Redis with appendfsync always, ${total} runs, ${IN_FLIGHT} in flight`);
  const aof = await startPrivateRedis({ appendfsync: 'always' });
  const durable = await startTriad({ model, redisUrl: aof.url });
  const triadDurable = await loopsPerSec(durable, total, IN_FLIGHT).finally(async () => {
    await durable.stop();
    await aof.stop();
  });

  log(`vs LangGraph: Triad on Redis without persistence, ${total} runs, ${IN_FLIGHT} in flight`);
  const plain = await startTriad({ model });
  const triadPlain = await loopsPerSec(plain, total, IN_FLIGHT).finally(() => plain.stop());

  return {
    figures: {
      langgraphLoopsPerSec100: round(graph.perSec, 1),
      triadLoopsPerSec100: round(triadDurable.perSec, 1),
      vsLanggraphRatio100: round(triadDurable.perSec / graph.perSec, 3),
      triadLoopsPerSec100NoPersistence: round(triadPlain.perSec, 1),
    },
    rows: [
      {
        measure: 'LangGraph loops/s (100 in flight)',
        value: fmt(graph.perSec),
        note: `${total} runs; PostgresSaver, durability sync; ${graph.checkpoints} checkpoints; RSS ${fmt(graph.rssMb, 0)} MB`,
      },
      {
        measure: 'Triad loops/s (100 in flight)',
        value: fmt(triadDurable.perSec),
        note: `${total} runs; Redis AOF appendfsync always`,
      },
      {
        measure: 'Triad vs LangGraph ratio (100)',
        value: fmt(triadDurable.perSec / graph.perSec, 3),
        note: `target >= 1; Triad without Redis persistence: ${fmt(triadPlain.perSec)} loops/s`,
      },
    ],
  };
}
