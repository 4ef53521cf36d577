// Baseline judge process: after observations the loop goes on; an answer ends the run on `results`.
import { next, serve } from './common.ts';

await serve('judge', {
  judge: async ({ data: { runId, iteration, kind } }) => {
    if (kind === 'observe') await next('plan', `plan-${runId}-${iteration + 1}`, { runId, iteration: iteration + 1 });
    else await next('results', `finished-${runId}`, { runId, status: 'succeeded' });
  },
});
