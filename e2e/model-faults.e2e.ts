// Model faults end to end: the scripted model server misbehaves on purpose, the real openai client meets it over
// HTTP. Each fault is either retried (with BullMQ's backoff) into success, or ends the run as failed with a
// reason that names it; the services go on serving either way.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { RunRecord } from '@triad/shared';
import type { Scenario, Turn } from '@triad/testing';
import { acceptedScript } from './support/scripts.js';
import { TriadHarness } from './support/triad-harness.js';

const answer: Turn = { content: 'The answer.' };
const fault = (f: Turn['fault']): Turn => ({ fault: f });
const status500 = fault({ status: 500, message: 'scripted upstream failure' });
const judgeProse: Turn = { content: 'This answer looks correct to me, I accept it.' };

const scenario: Scenario = {
  scripts: [
    acceptedScript('500-once', [status500, answer]),
    acceptedScript('500-always', [status500, status500, status500, answer]),
    acceptedScript('truncated-once', [{ ...answer, fault: { kind: 'truncated-json' } }, answer]),
    acceptedScript('empty-always', [
      fault({ kind: 'empty-choices' }),
      fault({ kind: 'empty-choices' }),
      fault({ kind: 'empty-choices' }),
      answer,
    ]),
    acceptedScript('timeout-once', [fault({ kind: 'stall', ms: 4_000 }), answer]),
    acceptedScript('refusal', [{ refusal: 'I cannot help with that request.' }, answer]),
    acceptedScript('broken-arguments', [
      { content: 'Compute.', toolCalls: [{ id: 'b1', name: 'calculator', arguments: '{"expression": "1 +' }] },
      { content: 'Compute again.', toolCalls: [{ id: 'b2', name: 'calculator', arguments: { expression: '1 + 1' } }] },
      { content: 'It is {{tool:b2.data.result}}.' },
    ]),
    acceptedScript('judge-500', [answer], [status500, { content: '{"verdict":"accept","critique":""}' }]),
    acceptedScript('judge-prose-once', [answer], [judgeProse, { content: '{"verdict":"accept","critique":""}' }]),
    acceptedScript('judge-prose-always', [answer], [judgeProse, judgeProse, judgeProse]),
    // JSON, and it even means "accept", but not in the schema the judge asked for: never taken as an accept.
    acceptedScript('judge-wrong-shape', [answer], Array(3).fill({ content: '{"accepted":true,"reason":"fine"}' })),
  ],
};

let triad: TriadHarness;

beforeAll(async () => {
  // No retries inside the client (the harness default), so every fault reaches BullMQ's retries: 3 attempts.
  triad = await TriadHarness.start({ scenario, env: { TRIAD_MODEL_TIMEOUT_MS: '1500' } });
});
afterAll(async () => {
  await triad?.stop();
});

const plannerCalls = (script: string) => triad.model.requestsFor('planner').filter((r) => r.script === script);
const run = async (name: string): Promise<RunRecord> =>
  triad.waitForRun(await triad.submit({ goal: `goal:${name}`, runId: `fault-${name}` }));

describe('model faults', () => {
  it('retries a 500 and succeeds', async () => {
    const r = await run('500-once');
    expect(r.status).toBe('succeeded');
    expect(plannerCalls('500-once')).toHaveLength(2);
  });

  it('fails the run with the HTTP status once every attempt met a 500', async () => {
    const r = await run('500-always');
    expect(r.status).toBe('failed');
    expect(r.error?.code).toBe('model_error');
    expect(r.error?.message).toMatch(/^plan step failed: .*HTTP 500.*scripted upstream failure/);
    expect(plannerCalls('500-always')).toHaveLength(3);
  });

  it('retries a reply cut off in the middle of its JSON', async () => {
    const r = await run('truncated-once');
    expect(r.status).toBe('succeeded');
    expect(r.answer).toBe('The answer.');
  });

  it('fails the run as a bad model reply when the model keeps returning no choices', async () => {
    const r = await run('empty-always');
    expect(r.status).toBe('failed');
    expect(r.error).toEqual({ code: 'bad_model_reply', message: expect.stringMatching(/returned no choices/) });
  });

  it('retries a model call that timed out', async () => {
    const r = await run('timeout-once');
    expect(r.status).toBe('succeeded');
    expect(plannerCalls('timeout-once')).toHaveLength(2);
  });

  it('ends the run on a refusal, with the model’s words, without asking again', async () => {
    const r = await run('refusal');
    expect(r.status).toBe('failed');
    expect(r.error).toEqual({
      code: 'model_refused',
      message: expect.stringContaining('the model refused: I cannot help with that request.'),
    });
    expect(plannerCalls('refusal')).toHaveLength(1);
  });

  it('turns tool calls with broken arguments into an observation the model corrects', async () => {
    const r = await run('broken-arguments');
    expect(r.status).toBe('succeeded');
    expect(r.answer).toBe('It is 2.');
    const events = await triad.events(r.id);
    const first = events.find((e) => e.type === 'observation' && e.stepId === '1-0');
    expect(first?.type === 'observation' && first.observation).toMatchObject({
      ok: false,
      error: { code: 'invalid_arguments' },
    });
  });

  it('retries the judge’s model call too', async () => {
    const r = await run('judge-500');
    expect(r.status).toBe('succeeded');
    expect(triad.model.requestsFor('judge').filter((q) => q.script === 'judge-500')).toHaveLength(2);
  });

  it('asks the judge again when its reply is prose, and succeeds once it answers in its schema', async () => {
    const r = await run('judge-prose-once');
    expect(r).toMatchObject({ status: 'succeeded', answer: 'The answer.' });
    expect(triad.model.requestsFor('judge').filter((q) => q.script === 'judge-prose-once')).toHaveLength(2);
    const job = await triad.queues.judge.getJob(`judge-${r.id}-1`);
    expect(job?.stacktrace).toEqual([
      expect.stringMatching(/^BadModelReplyError: judge model reply is not JSON: This answer looks correct/),
    ]);
  });

  it('fails the run as a bad model reply when the judge answers in prose on every attempt', async () => {
    const r = await run('judge-prose-always');
    expect(r).toMatchObject({ status: 'failed', answer: null });
    expect(r.error).toEqual({
      code: 'bad_model_reply',
      message:
        'judge step failed: BadModelReplyError: judge model reply is not JSON: This answer looks correct to me, I accept it.',
    });
    expect(triad.model.requestsFor('judge').filter((q) => q.script === 'judge-prose-always')).toHaveLength(3);
  });

  it('never takes a judge reply in the wrong JSON shape as a verdict: retried, then the run fails', async () => {
    const r = await run('judge-wrong-shape');
    expect(r).toMatchObject({ status: 'failed', answer: null, error: { code: 'bad_model_reply' } });
    expect(r.error?.message).toMatch(
      /^judge step failed: BadModelReplyError: judge model reply does not match its schema: .*verdict/s,
    );
    expect(triad.model.requestsFor('judge').filter((q) => q.script === 'judge-wrong-shape')).toHaveLength(3);
    const events = await triad.events(r.id);
    expect(events.filter((e) => e.type === 'verdict')).toEqual([]);
  });

  it('leaves every service process running', () => {
    for (const s of triad.services) {
      expect(s.child.exitCode).toBeNull();
      expect(s.output()).not.toMatch(/unhandled|uncaught/i);
    }
  });
});
