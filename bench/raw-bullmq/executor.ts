// Baseline executor process: the no-op tool call, then the judge.
import { next, serve } from './common.ts';

await serve('executor', {
  act: async ({ data: { runId, iteration } }) =>
    next('judge', `judge-${runId}-${iteration}`, { runId, iteration, kind: 'observe' }),
});
