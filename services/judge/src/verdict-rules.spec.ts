import { describe, expect, it } from '@jest/globals';
import { Budget } from '@triad/shared';
import { verdictAfterObservations, verdictOnAnswer, verdictOnInvalidOutput } from './verdict-rules.js';

const budget = Budget.parse({ maxIterations: 3, maxToolCalls: 10 });
const facts = (iteration: number, toolCallsUsed = 0) => ({
  iteration,
  budget,
  toolCallsUsed,
  checks: ['c'],
  critique: null,
});

describe('verdict rules', () => {
  it.each([
    // iteration, tool calls used, expected next, expected status
    [1, 0, 'plan', undefined],
    [2, 9, 'plan', undefined],
    [3, 0, 'finish', 'budget_exceeded'],
    [1, 10, 'finish', 'budget_exceeded'],
  ])('after observations at iteration %i with %i tool calls: %s %s', (n, used, next, status) => {
    const v = verdictAfterObservations(facts(n, used));
    expect(v.next).toBe(next);
    if (v.next === 'finish') expect(v.status).toBe(status);
    else expect(v.critique).toBe('c');
  });

  it.each([
    [1, true, 'finish', 'succeeded'],
    [3, true, 'finish', 'succeeded'],
    [1, false, 'plan', undefined],
    [3, false, 'finish', 'budget_exceeded'],
  ])('on an answer at iteration %i, accepted=%s: %s %s', (n, accepted, next, status) => {
    const v = verdictOnAnswer({ ...facts(n), critique: 'cite the source', answer: '42', accepted });
    expect(v.next).toBe(next);
    if (v.next === 'finish') {
      expect(v.status).toBe(status);
      expect(v.answer).toBe(accepted ? '42' : null);
    } else {
      expect(v.critique).toBe('cite the source');
    }
  });

  it.each([
    [1, 'plan', undefined],
    [2, 'plan', undefined],
    [3, 'finish', 'output_invalid'],
  ])('on an invalid output at iteration %i of 3: %s %s', (n, next, code) => {
    const v = verdictOnInvalidOutput({ ...facts(n), critique: 'fix /a', problems: ['/a: is required'] });
    expect(v.next).toBe(next);
    if (v.next === 'plan') expect(v.critique).toBe('fix /a');
    else
      expect(v).toMatchObject({
        status: 'failed',
        code,
        answer: null,
        reason: expect.stringContaining('/a: is required'),
      });
  });

  it('an accepted typed answer carries its output', () => {
    const v = verdictOnAnswer({ ...facts(1), answer: '{"a":1}', accepted: true, output: { a: 1 } });
    expect(v).toMatchObject({ next: 'finish', status: 'succeeded', output: { a: 1 } });
  });
});
