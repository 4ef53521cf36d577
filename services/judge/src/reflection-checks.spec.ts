import { describe, expect, it } from '@jest/globals';
import type { RunEvent, StepResult } from '@triad/shared';
import { callSignature, reflectionChecks } from './reflection-checks.js';

const call = (stepId: string, tool: string, args: string) => ({ stepId, callId: `c${stepId}`, tool, arguments: args });
const result = (stepId: string, tool: string, ok: boolean): StepResult => ({
  stepId,
  callId: `c${stepId}`,
  tool,
  executor: 'e',
  durationMs: 1,
  observation: ok
    ? { ok: true, data: 1 }
    : { ok: false, error: { code: 'tool_error', message: 'x', retryable: false } },
});
const calledEvent = (iteration: number, tool: string, args: string): RunEvent => ({
  type: 'tool.called',
  iteration,
  at: 0,
  ...call(`${iteration}-0`, tool, args),
});
const obsEvent = (iteration: number, ok: boolean): RunEvent => ({
  type: 'observation',
  iteration,
  at: 0,
  ...result(`${iteration}-0`, 't', ok),
});

describe('reflection checks', () => {
  it('treats key order and spacing as the same call', () => {
    expect(callSignature('t', '{"a":1,"b":[2]}')).toBe(callSignature('t', '{ "b": [2], "a": 1 }'));
    expect(callSignature('t', '{"a":1}')).not.toBe(callSignature('u', '{"a":1}'));
  });

  it('says nothing when all is well', () => {
    expect(reflectionChecks(1, [call('1-0', 't', '{}')], [result('1-0', 't', true)], [])).toEqual([]);
  });

  it('reports failed calls with their codes', () => {
    const checks = reflectionChecks(1, [call('1-0', 't', '{}')], [result('1-0', 't', false)], []);
    expect(checks).toEqual(['1 of 1 tool calls failed: t (tool_error).']);
  });

  it('reports a call repeated from an earlier iteration', () => {
    const history = [calledEvent(1, 'calculator', '{"expression":"1+1"}')];
    const checks = reflectionChecks(
      2,
      [call('2-0', 'calculator', '{ "expression": "1+1" }')],
      [result('2-0', 'calculator', true)],
      history,
    );
    expect(checks.join(' ')).toMatch(/Repeated call: calculator .* iteration 1/);
  });

  it('reports three failing iterations in a row, not two', () => {
    const failingNow = [result('3-0', 't', false)];
    const calls = [call('3-0', 't', '{"x":3}')];
    const streak = reflectionChecks(3, calls, failingNow, [obsEvent(1, false), obsEvent(2, false)]);
    expect(streak.join(' ')).toMatch(/three iterations in a row/);
    const broken = reflectionChecks(3, calls, failingNow, [obsEvent(1, true), obsEvent(2, false)]);
    expect(broken.join(' ')).not.toMatch(/three iterations/);
  });
});
