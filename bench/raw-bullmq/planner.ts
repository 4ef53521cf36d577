// Baseline planner process: a goal starts iteration 1; iteration 1 asks for one tool call, iteration 2 answers.
import { next, serve } from './common.ts';

await serve('planner', {
  goals: async (job) => next('plan', `plan-${job.data.runId}-1`, { runId: job.data.runId, iteration: 1 }),
  plan: async ({ data: { runId, iteration } }) => {
    if (iteration === 1) await next('act', `act-${runId}-${iteration}-0`, { runId, iteration });
    else await next('judge', `judge-${runId}-${iteration}`, { runId, iteration, kind: 'answer' });
  },
});
