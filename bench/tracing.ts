// Throughput (200 in flight) with every service exporting its spans over OTLP/HTTP (protobuf, as in
// docker-compose.yml) to a receiver in the bench, against the same stack exporting nothing. Both stacks run side by
// side and are measured in the order off, on, on, off so drift in the machine's load hits both alike.

import { type BenchOptions, fmt, log, loopScript, round, startModel, startOtlpSink, startTriad } from './support.ts';
import { loopsPerSec } from './throughput.ts';

export async function measureTracing(opts: BenchOptions) {
  const total = opts.quick ? 300 : 500;
  const model = await startModel([loopScript('goal:loop')]);
  const sink = await startOtlpSink();
  log('tracing: starting a stack without export and one exporting to the OTLP receiver');
  const off = await startTriad({ model });
  const on = await startTriad({
    model,
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
    },
  });
  try {
    const offRates: number[] = [];
    const onRates: number[] = [];
    for (const [name, stack, rates] of [
      ['off', off, offRates],
      ['on', on, onRates],
      ['on', on, onRates],
      ['off', off, offRates],
    ] as const) {
      log(`tracing ${name}: ${total} runs, 200 in flight`);
      rates.push((await loopsPerSec(stack, total)).perSec);
    }
    await new Promise((r) => setTimeout(r, 6_000)); // the batch processors' last export
    const offRate = (offRates[0] + offRates[1]) / 2;
    const onRate = (onRates[0] + onRates[1]) / 2;
    return {
      figures: {
        triadLoopsPerSecTracing: round(onRate, 1),
        triadLoopsPerSecNoTracing: round(offRate, 1),
        tracingThroughputRatio: round(onRate / offRate, 3),
      },
      rows: [
        {
          measure: 'Triad loops/s, no export / export',
          value: `${fmt(offRate)} / ${fmt(onRate)}`,
          note: `2 x ${total} runs each; receiver got ${sink.requests()} OTLP requests, ${fmt(sink.bytes() / 1e6)} MB`,
        },
        { measure: 'tracing throughput ratio', value: fmt(onRate / offRate, 3), note: 'target >= 0.9' },
      ],
    };
  } finally {
    await on.stop();
    await off.stop();
  }
}
