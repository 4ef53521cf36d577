import { describe, expect, it } from '@jest/globals';
import type { PlanDecision, RunRecord, StepResult, StoredRunEvent, Verdict } from '@triad/contracts';
import {
  canonicalArguments,
  forkRefusal,
  forkSeed,
  matchRecordedCall,
  type ParentRun,
  replayRefusal,
  replaySeed,
  replyOfDecision,
  replyOfVerdict,
} from './run-lineage.js';

const decision = (iteration: number, calls: [string, string][], answer: string | null = null): PlanDecision => ({
  iteration,
  model: 'm1',
  thought: calls.length ? `think ${iteration}` : null,
  toolCalls: calls.map(([tool, args], i) => ({
    stepId: `${iteration}-${i}`,
    callId: `c${iteration}${i}`,
    tool,
    arguments: args,
  })),
  answer,
  inputTokens: 10,
  outputTokens: 5,
});
const step = (stepId: string, data: unknown): StepResult => ({
  stepId,
  callId: `call-${stepId}`,
  tool: 'http_post',
  executor: 'e1',
  durationMs: 3,
  observation: { ok: true, data },
});
const cont: Verdict = { next: 'plan', critique: null, checks: [] };
const done: Verdict = { next: 'finish', status: 'succeeded', answer: 'ok', reason: 'accepted', checks: [] };

/** A parent that ran iterations 1 (a call) and 2 (an answer, accepted). */
function parent(status: RunRecord['status'] = 'succeeded', ledger?: Record<string, unknown>): ParentRun {
  const entries = ledger ?? {
    'plan:1': decision(1, [['http_post', '{"url":"u","body":"{}"}']]),
    'step:1-0': step('1-0', 'charged'),
    'verdict:1': cont,
    'plan:2': decision(2, [], 'ok'),
    'verdict:2': done,
  };
  const events = [
    { id: '1-0', type: 'goal.received', iteration: 0, at: 1 },
    { id: '2-0', type: 'thought', iteration: 1, at: 2, stage: 'interpret', text: 't' },
    { id: '3-0', type: 'observation', iteration: 1, at: 3, ...step('1-0', 'charged') },
    { id: '4-0', type: 'verdict', iteration: 1, at: 4, decision: 'continue', reason: 'next' },
    { id: '5-0', type: 'answer.proposed', iteration: 2, at: 5, answer: 'ok' },
    { id: '6-0', type: 'status.changed', iteration: 2, at: 6, from: 'running', to: status, reason: null },
  ] as unknown as StoredRunEvent[];
  const run = { id: 'p1', status, iteration: 2, request: { goal: 'g', runId: 'p1' } } as unknown as RunRecord;
  return { run, events, ledger: Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, JSON.stringify(v)])) };
}

describe('forks', () => {
  it('refuse a fork point the parent ended before (400), has not reached yet (409), or beyond the budget', () => {
    expect(forkRefusal(parent(), 1, 8)).toBeNull();
    expect(forkRefusal(parent(), 2, 8)).toBeNull();
    expect(forkRefusal(parent(), 3, 8)).toMatchObject({
      code: 'invalid',
      message: expect.stringContaining('ended in iteration 2'),
    });
    expect(forkRefusal(parent(), 2, 1)).toMatchObject({ code: 'invalid' });
    const running = parent('running', { 'plan:1': decision(1, [['calculator', '{}']]) });
    expect(forkRefusal(running, 2, 8)).toMatchObject({ code: 'conflict' });
  });

  it("seed the ledger and the history events of the iterations before the fork point, nothing of the run's own", () => {
    const seed = forkSeed(parent(), { runId: 'p1', iteration: 2 });
    expect(Object.keys(seed.ledger).sort()).toEqual(['plan:1', 'step:1-0', 'verdict:1']);
    expect(seed.events.map((e) => e.type)).toEqual(['thought', 'observation', 'verdict']);
    expect(seed.events.every((e) => !('id' in e) && e.at !== undefined)).toBe(true);
    expect(seed.iteration).toBe(2);
    expect(forkSeed(parent(), { runId: 'p1', iteration: 1 })).toMatchObject({ ledger: {}, events: [], iteration: 1 });
  });

  it('keep the lessons the first plan was given (event and choice) when they copy it, and search again when not', () => {
    const lessons = [{ id: 'm1', text: 'dates are YYYY-MM-DD', score: 0.8, untrusted: false, sourceRunId: 'r0' }];
    const withLessons = parent();
    withLessons.ledger['memory:recall'] = JSON.stringify(lessons);
    withLessons.events.splice(1, 0, { id: '1-1', type: 'memory.recalled', iteration: 1, at: 1, lessons });
    const seed = forkSeed(withLessons, { runId: 'p1', iteration: 2 });
    expect(seed.ledger['memory:recall']).toBe(JSON.stringify(lessons));
    expect(seed.events[0]).toMatchObject({ type: 'memory.recalled', lessons });
    const fresh = forkSeed(withLessons, { runId: 'p1', iteration: 1 });
    expect(fresh).toMatchObject({ ledger: {}, events: [] });
  });
});

describe('replays', () => {
  it('need an ended parent, and keep its whole ledger as their recording', () => {
    expect(replayRefusal(parent('running'))).toMatchObject({ code: 'conflict' });
    expect(replayRefusal(parent())).toBeNull();
    const seed = replaySeed(parent());
    expect(Object.keys(seed.ledger).every((k) => k.startsWith('rec:'))).toBe(true);
    expect(seed.ledger['rec:plan:1']).toBe(parent().ledger['plan:1']);
    expect(seed.iteration).toBe(1);
    expect(seed.ledger['rec:approvals:1-0']).toBeUndefined();
    const gated = parent();
    const requested = { type: 'approval.requested', iteration: 1, at: 2, approvalId: '1-0', stepId: '1-0' };
    const decided = {
      type: 'approval.decided',
      iteration: 1,
      at: 3,
      approvalId: '1-0',
      stepId: '1-0',
      status: 'approved',
    };
    gated.events.push({ id: '7-0', ...requested } as unknown as StoredRunEvent);
    gated.events.push({ id: '8-0', ...decided } as unknown as StoredRunEvent);
    expect(JSON.parse(replaySeed(gated).ledger['rec:approvals:1-0'] ?? '[]')).toEqual([requested, decided]);
  });

  it('play the recorded replies as the model gave them', () => {
    const calls = replyOfDecision(JSON.stringify(decision(1, [['calculator', '{"expression":"1+1"}']])));
    expect(calls).toMatchObject({ model: 'm1', content: 'think 1', inputTokens: 10, outputTokens: 5 });
    expect(calls.toolCalls).toEqual([{ id: 'c10', name: 'calculator', arguments: '{"expression":"1+1"}' }]);
    expect(replyOfDecision(JSON.stringify(decision(2, [], 'the answer')))).toMatchObject({ content: 'the answer' });
    const review = { model: 'j', content: '{"verdict":"accept","critique":""}', inputTokens: 1, outputTokens: 2 };
    expect(replyOfVerdict(JSON.stringify({ ...done, review }))).toMatchObject(review);
    expect(replyOfVerdict(JSON.stringify(done))).toBeNull();
  });

  it('match a live call to a recorded one by tool and canonical arguments, preferring the same iteration', () => {
    expect(canonicalArguments('{ "b": 1, "a": {"d": [2, {"f":1,"e":0}], "c": 3} }')).toBe(
      '{"a":{"c":3,"d":[2,{"e":0,"f":1}]},"b":1}',
    );
    expect(canonicalArguments('not json')).toBe('not json');
    const ledger = replaySeed(
      parent('succeeded', {
        'plan:1': decision(1, [['http_post', '{"url":"u","body":"{}"}']]),
        'step:1-0': step('1-0', 'first'),
        'plan:2': decision(2, [['http_post', '{"body":"{}","url":"u"}']]),
        'step:2-0': step('2-0', 'second'),
      }),
    ).ledger;
    const call = { tool: 'http_post', arguments: '{"body": "{}", "url": "u"}' };
    expect(matchRecordedCall(ledger, call, 1)?.observation).toEqual({ ok: true, data: 'first' });
    expect(matchRecordedCall(ledger, call, 2)?.observation).toEqual({ ok: true, data: 'second' });
    expect(matchRecordedCall(ledger, call, 5)?.observation).toEqual({ ok: true, data: 'first' });
    expect(matchRecordedCall(ledger, { ...call, tool: 'http_get' }, 1)).toBeNull();
    expect(matchRecordedCall(ledger, { ...call, arguments: '{"url":"v","body":"{}"}' }, 1)).toBeNull();
  });
});
