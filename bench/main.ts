// `npm run bench [-- --quick] [-- --only=latency,throughput,...]`: every measurement in turn, a table, and as the
// last line of stdout one JSON object with every figure. Asserts nothing: figures depend on the machine.
import { parseArgs } from 'node:util';
import { measureExecutorScaling } from './executor-scaling.ts';
import { measureFairness } from './fairness.ts';
import { measureLoopLatency } from './loop-latency.ts';
import { measureMemorySearch } from './memory-search.ts';
import { measureMemoryStore } from './memory-store.ts';
import { measureModelBound } from './model-bound.ts';
import { measureModelWait } from './model-wait.ts';
import { measureRedisCluster } from './redis-cluster.ts';
import { measureRedisCost } from './redis-cost.ts';
import { measureRetention } from './retention.ts';
import { measureRunListing } from './run-listing.ts';
import { measureServiceReady } from './service-ready.ts';
import { measureServiceResources } from './service-resources.ts';
import { measureSseStreams } from './sse-streams.ts';
import { measureStalledRecovery } from './stalled-recovery.ts';
import { type BenchOptions, describeMachine, log, printTable, type Row, round, runCleanups } from './support.ts';
import { measureThroughput } from './throughput.ts';
import { measureTracing } from './tracing.ts';
import { measureVsLangGraph } from './vs-langgraph.ts';

type Measure = (opts: BenchOptions) => Promise<{ figures: Record<string, number>; rows: Row[] }>;
const MEASURES: Record<string, Measure> = {
  latency: measureLoopLatency,
  throughput: measureThroughput,
  executors: measureExecutorScaling,
  tracing: measureTracing,
  modelwait: measureModelWait,
  modelbound: measureModelBound,
  redis: measureRedisCost,
  cluster: measureRedisCluster,
  langgraph: measureVsLangGraph,
  stalled: measureStalledRecovery,
  sse: measureSseStreams,
  fairness: measureFairness,
  startup: measureServiceReady,
  resources: measureServiceResources,
  retention: measureRetention,
  listing: measureRunListing,
  memory: measureMemorySearch,
  memorystore: measureMemoryStore,
};

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, only: { type: 'string' } } });
const only = values.only ? values.only.split(',') : Object.keys(MEASURES);
const unknown = only.filter((m) => !MEASURES[m]);
if (unknown.length) {
  console.error(`unknown measurement ${unknown.join(', ')}; known: ${Object.keys(MEASURES).join(', ')}`);
  process.exit(2);
}

const opts: BenchOptions = { quick: values.quick };
const machine = await describeMachine();
log(machine.line);
const figures: Record<string, number> = { loadAvg1mAtStart: round(machine.loadAvg1m, 2) };
const rows: Row[] = [];
const t0 = performance.now();
let failed = false;
try {
  for (const name of only) {
    const started = performance.now();
    try {
      const res = await MEASURES[name](opts);
      Object.assign(figures, res.figures);
      rows.push(...res.rows);
    } catch (err) {
      failed = true;
      console.error(`measurement ${name} failed: ${(err as Error).stack ?? err}`);
      rows.push({ measure: name, value: 'FAILED', note: (err as Error).message.split('\n')[0] });
    } finally {
      await runCleanups();
      log(`${name} done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    }
  }
} finally {
  await runCleanups();
}
log(`all done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
console.log(`${machine.line}${opts.quick ? ' · --quick' : ''}`);
printTable(rows);
console.log(JSON.stringify(figures));
process.exit(failed ? 1 : 0);
