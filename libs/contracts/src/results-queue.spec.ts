import { describe, expect, it } from '@jest/globals';
import { GoalRequest } from './goal-request.js';
import { isResultsQueue, resultsQueueOf } from './results-queue.js';

describe('results queues', () => {
  it.each([
    ['default', undefined, 'results'],
    ['default', 'billing', 'results.default.billing'],
    ['acme', 'billing', 'results.acme.billing'],
    ['acme', 'Ops_2-x', 'results.acme.Ops_2-x'],
  ])('tenant %s with resultsQueue %s publishes to %s', (tenant, name, queue) => {
    expect(resultsQueueOf(tenant, name)).toBe(queue);
    expect(isResultsQueue(queue)).toBe(true);
  });

  it.each(['goals', 'act', 'results.acme', 'results.acme.a.b', 'results.ACME.x', 'results..x', 'resultsx'])(
    'does not take %s for a results queue',
    (name) => expect(isResultsQueue(name)).toBe(false),
  );

  it.each(['../goals', 'a:b', 'a.b', '{triad}', 'a~b', '-x', '', 'x'.repeat(65), 'é'])(
    'refuses the resultsQueue %j in a GoalRequest',
    (name) => {
      const parsed = GoalRequest.safeParse({ goal: 'g', resultsQueue: name });
      expect(parsed.success).toBe(false);
      expect(parsed.error?.issues.map((i) => i.path.join('.'))).toEqual(['resultsQueue']);
    },
  );
});
