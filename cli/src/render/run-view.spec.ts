import { describe, expect, it } from '@jest/globals';
import { GoalRequest, type RunRecord } from '@triad/shared';
import { runDetails, runOutcome } from './run-view.js';

const run = (over: Partial<RunRecord>): RunRecord => ({
  schemaVersion: 1,
  id: 'r1',
  tenant: 'default',
  status: 'succeeded',
  phase: 'done',
  iteration: 2,
  request: GoalRequest.parse({ goal: 'g' }),
  usage: { inputTokens: 1, outputTokens: 2, modelCalls: 1, toolCalls: 0, costUsd: 0 },
  createdAt: 0,
  updatedAt: 1000,
  finishedAt: 1000,
  answer: '{"city":"Porto"}',
  error: null,
  ...over,
});

describe('run views', () => {
  it('show a typed output next to the answer', () => {
    const typed = run({ output: { city: 'Porto' } });
    expect(runDetails(typed)).toEqual(
      expect.arrayContaining(['answer    {"city":"Porto"}', 'output    {"city":"Porto"}']),
    );
    expect(runOutcome(typed)).toContain('output: {"city":"Porto"}');
  });

  it('show no output line for a run without one', () => {
    const plain = run({ answer: 'Porto.' });
    expect(runDetails(plain).some((l) => l.startsWith('output'))).toBe(false);
    expect(runOutcome(plain)).toContain('answer: Porto.');
  });
});
