// 200 runs in flight: loops per second of Triad against the plain BullMQ chain, and the services' resident memory.
import {
  type BenchOptions,
  drive,
  fmt,
  type LoopSystem,
  log,
  loopScript,
  percentile,
  round,
  rssMb,
  startModel,
  startRaw,
  startTriad,
} from './support.ts';

export const IN_FLIGHT = 200;

/** Warm-up, then `total` runs with IN_FLIGHT in flight. */
export async function loopsPerSec(system: LoopSystem, total: number, inFlight = IN_FLIGHT, goal = 'goal:loop') {
  await drive(Math.min(100, total), Math.min(100, inFlight), (id) => system.run(id, goal), `${system.name}-warm`);
  return drive(total, inFlight, (id) => system.run(id, goal), `${system.name}-tp`);
}

export async function measureThroughput(opts: BenchOptions) {
  const total = opts.quick ? 400 : 1000;

  log(`throughput: raw BullMQ chain, ${total} runs, ${IN_FLIGHT} in flight`);
  const raw = await startRaw();
  const rawResult = await loopsPerSec(raw, total).finally(() => raw.stop());

  log(`throughput: Triad, ${total} runs, ${IN_FLIGHT} in flight`);
  const model = await startModel([loopScript('goal:loop')]);
  const triad = await startTriad({ model });
  let rss: { name: string; mb: number }[] = [];
  const triadResult = await loopsPerSec(triad, total)
    .then(async (r) => {
      rss = await Promise.all(
        triad.services.map(async (s) => ({ name: s.name, mb: await rssMb(s.child.pid as number) })),
      );
      return r;
    })
    .finally(() => triad.stop());
  const largest = rss.reduce((a, b) => (b.mb > a.mb ? b : a), { name: '?', mb: Number.NEGATIVE_INFINITY });

  return {
    figures: {
      rawLoopsPerSec200: round(rawResult.perSec, 1),
      triadLoopsPerSec200: round(triadResult.perSec, 1),
      throughputRatio200: round(triadResult.perSec / rawResult.perSec, 3),
      serviceRssMb: round(largest.mb, 1),
    },
    rows: [
      {
        measure: 'raw loops/s (200 in flight)',
        value: fmt(rawResult.perSec),
        note: `${total} runs; latency p50 ${fmt(percentile(rawResult.latencies, 50))} ms`,
      },
      {
        measure: 'Triad loops/s (200 in flight)',
        value: fmt(triadResult.perSec),
        note: `${total} runs; latency p50 ${fmt(percentile(triadResult.latencies, 50))} ms, p99 ${fmt(percentile(triadResult.latencies, 99))} ms`,
      },
      {
        measure: 'throughput ratio (200)',
        value: fmt(triadResult.perSec / rawResult.perSec, 3),
        note: 'target >= 0.6',
      },
      {
        measure: 'largest service RSS',
        value: `${fmt(largest.mb)} MB`,
        note: `after the Triad throughput run: ${rss.map((r) => `${r.name} ${fmt(r.mb, 0)}`).join(', ')}`,
      },
    ],
  };
}
