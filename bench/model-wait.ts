// With a model that takes 500 ms per answer, the share of a run's wall time that is not spent waiting for it: the
// loop (two model turns, one calculator call) waits 1000 ms; everything else is Triad's own overhead.
import { type BenchOptions, drive, fmt, log, loopScript, median, round, startModel, startTriad } from './support.ts';

const MODEL_MS = 500;
const TURNS = 2;

export async function measureModelWait(opts: BenchOptions) {
  const runs = opts.quick ? 4 : 10;
  const model = await startModel([loopScript('goal:slowmodel', MODEL_MS)]);
  log(`model wait: ${runs} sequential runs, ${TURNS} model turns of ${MODEL_MS} ms each`);
  const triad = await startTriad({ model });
  try {
    await drive(1, 1, (id) => triad.run(id, 'goal:slowmodel'), 'slow-warm');
    const res = await drive(runs, 1, (id) => triad.run(id, 'goal:slowmodel'), 'slow');
    const wall = median(res.latencies);
    const share = (wall - TURNS * MODEL_MS) / wall;
    return {
      figures: { overheadShareWith500msModel: round(share, 4), runWallMsWith500msModel: round(wall, 1) },
      rows: [
        {
          measure: 'run wall time, 500 ms model',
          value: `${fmt(wall)} ms`,
          note: `median of ${runs} sequential runs; ${TURNS} x ${MODEL_MS} ms of model time`,
        },
        { measure: 'overhead share, 500 ms model', value: fmt(share, 4), note: 'target <= 0.02' },
      ],
    };
  } finally {
    await triad.stop();
  }
}
