// One run at a time: submit-to-result latency of the plan -> act -> judge loop, Triad against the plain BullMQ chain.
import {
  type BenchOptions,
  drive,
  fmt,
  type LoopSystem,
  log,
  loopScript,
  percentile,
  round,
  startModel,
  startRaw,
  startTriad,
} from './support.ts';

export async function measureLoopLatency(opts: BenchOptions) {
  const warmup = opts.quick ? 10 : 20;
  const samples = opts.quick ? 60 : 200;
  const sample = async (system: LoopSystem) => {
    await drive(warmup, 1, (id) => system.run(id, 'goal:loop'), `${system.name}-warm`);
    return drive(samples, 1, (id) => system.run(id, 'goal:loop'), `${system.name}-seq`);
  };

  log('loop latency: raw BullMQ chain');
  const raw = await startRaw();
  const rawResult = await sample(raw).finally(() => raw.stop());

  log('loop latency: Triad');
  const model = await startModel([loopScript('goal:loop')]);
  const triad = await startTriad({ model });
  const triadResult = await sample(triad).finally(() => triad.stop());

  const rawP50 = percentile(rawResult.latencies, 50);
  const triadP50 = percentile(triadResult.latencies, 50);
  const triadP99 = percentile(triadResult.latencies, 99);
  return {
    figures: {
      rawLoopP50Ms: round(rawP50, 2),
      rawLoopP99Ms: round(percentile(rawResult.latencies, 99), 2),
      triadLoopP50Ms: round(triadP50, 2),
      triadLoopP99Ms: round(triadP99, 2),
      loopOverheadRatio: round(triadP50 / rawP50, 2),
    },
    rows: [
      {
        measure: 'raw loop latency p50 / p99',
        value: `${fmt(rawP50)} / ${fmt(percentile(rawResult.latencies, 99))} ms`,
        note: `${samples} sequential runs after ${warmup} warm-up`,
      },
      {
        measure: 'Triad loop latency p50 / p99',
        value: `${fmt(triadP50)} / ${fmt(triadP99)} ms`,
        note: `same; 1 executor, calculator tool, model answers at once`,
      },
      { measure: 'loop overhead ratio (p50)', value: fmt(triadP50 / rawP50, 2), note: 'target <= 1.5' },
    ],
  };
}
