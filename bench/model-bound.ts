// A fleet waiting on a model that thinks: N goals added at once to `goals` with plain BullMQ (as another system
// would), a model that answers every request after 1 s, default settings, one planner, one executor, one judge. Each
// run makes 3 model calls (plan, plan, review of the answer), so the ideal wall time is 3 s whatever N is.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import {
  acceptingLoopScript,
  type BenchOptions,
  fmt,
  log,
  round,
  rssMb,
  startModel,
  startTriad,
  type TriadStack,
} from './support.ts';

const MODEL_MS = 1_000;
const MODEL_CALLS = 3;
const IDEAL_MS = MODEL_CALLS * MODEL_MS;
const GOAL = 'goal:modelbound';

interface Wave {
  wallMs: number;
  rssMb: number;
  modelPeak: number;
  /** CPU of the bench process (the scripted model server, the producer, the results consumer), share of one core. */
  benchCpu: number;
  benchLoopP99Ms: number;
}

/** Adds `n` goals at once and waits until every run has reported its result. */
async function wave(triad: TriadStack, model: Awaited<ReturnType<typeof startModel>>, n: number): Promise<Wave> {
  let peakRss = 0;
  const sample = async () => {
    for (const pid of triad.pids()) peakRss = Math.max(peakRss, await rssMb(pid));
  };
  const sampler = setInterval(() => void sample(), 250);
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  model.takePeakInFlight();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  try {
    await Promise.all(Array.from({ length: n }, (_, i) => triad.run(`mb${n}-${i}`, `${GOAL} #${i}`)));
  } finally {
    clearInterval(sampler);
    loop.disable();
  }
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  await sample();
  return {
    wallMs,
    rssMb: peakRss,
    modelPeak: model.takePeakInFlight(),
    benchCpu: (cpu.user + cpu.system) / 1000 / wallMs,
    benchLoopP99Ms: loop.percentile(99) / 1e6,
  };
}

export async function measureModelBound(opts: BenchOptions) {
  const sizes = opts.quick ? [200] : [200, 1000];
  const model = await startModel([acceptingLoopScript(GOAL, MODEL_MS)]);
  const triad = await startTriad({ model, defaults: true, runTimeoutMs: 1_800_000 });
  const figures: Record<string, number> = {};
  const rows = [];
  try {
    await triad.run('mb-warm', `${GOAL} warm-up`);
    for (const n of sizes) {
      log(`model bound: ${n} goals at once, model answers after ${MODEL_MS} ms, default settings`);
      const w = await wave(triad, model, n);
      const ratio = w.wallMs / IDEAL_MS;
      Object.assign(figures, {
        [`modelBoundWallRatio${n}`]: round(ratio, 2),
        [`modelBoundRssMb${n}`]: round(w.rssMb, 0),
        [`modelCallsInFlightPeak${n}`]: w.modelPeak,
        [`modelBoundBenchCpu${n}`]: round(w.benchCpu, 2),
      });
      rows.push(
        {
          measure: `model bound, ${n} goals: wall / ideal`,
          value: fmt(ratio, 2),
          note: `${fmt(w.wallMs / 1000)} s for ${n} runs of ${MODEL_CALLS} x ${MODEL_MS} ms model calls${n === 1000 ? '; target <= 2.5' : ''}`,
        },
        {
          measure: `model bound, ${n} goals: largest RSS`,
          value: `${fmt(w.rssMb, 0)} MB`,
          note: 'any service process',
        },
        { measure: `model bound, ${n} goals: calls in flight`, value: String(w.modelPeak), note: 'peak at the model' },
        {
          measure: `model bound, ${n} goals: bench CPU`,
          value: fmt(w.benchCpu, 2),
          note: `model server + producer, of one core; its event loop p99 ${fmt(w.benchLoopP99Ms)} ms`,
        },
      );
    }
    return { figures, rows };
  } finally {
    await triad.stop();
  }
}
