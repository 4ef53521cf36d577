// Budgets end to end: each limit is checked before the next model or tool call and ends the run as
// budget_exceeded, naming the limit. One executor working one job at a time, so "before the next tool call" is
// observable call by call.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { RunRecord, StoredRunEvent } from '@triad/shared';
import type { Scenario } from '@triad/testing';
import { ACCEPT, acceptedScript, calc } from './support/scripts.js';
import { TriadHarness } from './support/triad-harness.js';

const usage = (prompt_tokens: number, completion_tokens: number) => ({ prompt_tokens, completion_tokens });

// USD per million tokens: a planner token costs $0.001 in and $0.002 out; a judge input token $0.001.
const PRICES = {
  planner: { inputPerMTok: 1_000, outputPerMTok: 2_000 },
  judge: { inputPerMTok: 1_000, outputPerMTok: 0 },
};

const scenario: Scenario = {
  scripts: [
    acceptedScript('iterations', [
      { content: 'One.', toolCalls: [calc('i1', '1 + 1')] },
      { content: 'Two.', toolCalls: [calc('i2', '2 + 2')] },
      { content: 'Three.', toolCalls: [calc('i3', '3 + 3')] },
      { content: 'Never reached.' },
    ]),
    acceptedScript('toolcalls', [
      { content: 'Three at once.', toolCalls: [calc('t1', '1'), calc('t2', '2'), calc('t3', '3')] },
      { content: 'Never reached.' },
    ]),
    acceptedScript('tokens', [
      { content: 'A long think.', toolCalls: [calc('k1', '1 + 1')], usage: usage(600, 10) },
      { content: 'Never reached.' },
    ]),
    acceptedScript('cost-over', [{ content: 'An expensive answer.', usage: usage(100, 50) }]),
    acceptedScript(
      'cost-under',
      [{ content: 'An affordable answer.', usage: usage(100, 50) }],
      [{ ...ACCEPT, usage: usage(10, 5) }],
    ),
    acceptedScript('timeout', [
      { content: 'A slow model.', toolCalls: [calc('o1', '1 + 1')], delayMs: 3_000 },
      { content: 'Never reached.' },
    ]),
    acceptedScript('repeat', [
      { content: 'Add.', toolCalls: [calc('r1', '2 + 2')] },
      { content: 'Add again.', toolCalls: [{ id: 'r2', name: 'calculator', arguments: '{ "expression" : "2 + 2" }' }] },
      { content: 'It is 4.' },
    ]),
  ],
};

let triad: TriadHarness;

beforeAll(async () => {
  triad = await TriadHarness.start({
    scenario,
    executors: 1,
    env: { TRIAD_EXECUTOR_CONCURRENCY: '1', TRIAD_MODEL_PRICES: JSON.stringify(PRICES) },
  });
});
afterAll(async () => {
  await triad?.stop();
});

const requests = (script: string, role: 'planner' | 'judge') => triad.modelRequests(script, role);
const observations = (events: StoredRunEvent[]) => events.flatMap((e) => (e.type === 'observation' ? [e] : []));
const finalReason = (events: StoredRunEvent[]) =>
  events.flatMap((e) => (e.type === 'status.changed' ? [e.reason] : [])).at(-1);

async function runWith(name: string, budget: Record<string, number>): Promise<[RunRecord, StoredRunEvent[]]> {
  const run = await triad.waitForRun(await triad.submit({ goal: `goal:${name}`, runId: `budget-${name}`, budget }));
  return [run, await triad.events(run.id)];
}

function expectExceeded(run: RunRecord, events: StoredRunEvent[], limit: string): void {
  expect(run.status).toBe('budget_exceeded');
  expect(run.error).toEqual({ code: 'budget_exceeded', message: expect.stringMatching(new RegExp(`^${limit}: `)) });
  expect(finalReason(events)).toMatch(new RegExp(`^${limit}: `));
}

describe('budgets', () => {
  it('maxIterations: ends the run when its last iteration brings no answer', async () => {
    const [run, events] = await runWith('iterations', { maxIterations: 2 });
    expectExceeded(run, events, 'maxIterations');
    expect(run.iteration).toBe(2);
    expect(requests('iterations', 'planner')).toHaveLength(2);
    expect(observations(events).map((o) => o.stepId)).toEqual(['1-0', '2-0']);
  });

  it('maxToolCalls: refuses the call that would go over, and the judge ends the run', async () => {
    const [run, events] = await runWith('toolcalls', { maxToolCalls: 2 });
    expectExceeded(run, events, 'maxToolCalls');
    const obs = observations(events);
    expect(obs.filter((o) => o.observation.ok)).toHaveLength(2);
    expect(obs.filter((o) => !o.observation.ok).map((o) => !o.observation.ok && o.observation.error.code)).toEqual([
      'budget_exceeded',
    ]);
    expect(run.usage.toolCalls).toBe(2);
    expect(requests('toolcalls', 'planner')).toHaveLength(1);
  });

  it('maxTokens: a model call that used the budget up stops the tool call after it', async () => {
    const [run, events] = await runWith('tokens', { maxTokens: 500 });
    expectExceeded(run, events, 'maxTokens');
    expect(run.usage.inputTokens + run.usage.outputTokens).toBe(610);
    const [obs] = observations(events);
    expect(obs?.observation).toMatchObject({ ok: false, error: { code: 'budget_exceeded' } });
    expect(run.usage.toolCalls).toBe(0);
    expect(requests('tokens', 'planner')).toHaveLength(1);
  });

  it('maxCostUsd: prices the model calls from configuration and stops before the judge’s model call', async () => {
    const [run, events] = await runWith('cost-over', { maxCostUsd: 0.1 });
    expectExceeded(run, events, 'maxCostUsd');
    // 100 input tokens at $1000/M plus 50 output tokens at $2000/M.
    expect(run.usage.costUsd).toBeCloseTo(0.2, 9);
    expect(requests('cost-over', 'judge')).toHaveLength(0);
  });

  it('maxCostUsd: counts the judge’s model call too, and a run within its budget succeeds', async () => {
    const [run] = await runWith('cost-under', { maxCostUsd: 1 });
    expect(run.status).toBe('succeeded');
    expect(requests('cost-under', 'judge')).toHaveLength(1);
    expect(run.usage.costUsd).toBeCloseTo(0.2 + 10 * 0.001, 9);
  });

  it('timeoutMs: a run past its deadline is ended before its next tool call', async () => {
    // The model call starts well within the 2 s and its reply comes after them.
    const [run, events] = await runWith('timeout', { timeoutMs: 2_000 });
    expectExceeded(run, events, 'timeoutMs');
    const [obs] = observations(events);
    expect(obs?.observation).toMatchObject({ ok: false, error: { code: 'budget_exceeded' } });
    expect(run.usage.toolCalls).toBe(0);
  });
});

describe('repeated calls', () => {
  it('are detected by the judge and reported to the planner in its next turn', async () => {
    const [run, events] = await runWith('repeat', {});
    expect(run.status).toBe('succeeded');
    const reflection = events.find((e) => e.type === 'reflection' && e.iteration === 2);
    expect(reflection?.type === 'reflection' && reflection.checks.join(' ')).toMatch(
      /Repeated call: calculator with the same arguments was already made in iteration 1/,
    );
    const third = triad.plannerMessages('repeat')[2];
    expect(JSON.stringify(third)).toContain('Repeated call: calculator');
  });
});
