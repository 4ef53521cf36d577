// A model judge that disagrees: answers sent back until maxIterations runs out, a run through the gateway that meets
// a rejection before its answer is accepted, and TRIAD_JUDGE_POLICY=always reflecting on the tool calls of every
// iteration. The judge's replies are scripted; planner, executor, judge and gateway are real processes.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { StoredRunEvent } from '@triad/shared';
import type { RecordedRequest, Scenario, Turn } from '@triad/testing';
import { GatewayClient } from './support/gateway-harness.js';
import { ACCEPT, acceptedScript } from './support/scripts.js';
import { TriadHarness } from './support/triad-harness.js';

const revise = (critique: string): Turn => ({ content: JSON.stringify({ verdict: 'revise', critique }) });
const reflect = (critique: string): Turn => ({ content: JSON.stringify({ critique }) });
const calc = (id: string, expression: string) => ({ id, name: 'calculator', arguments: { expression } });

/** The requests of one role for one script, oldest first. */
const requestsOf = (triad: TriadHarness, role: string, script: string) =>
  triad.model.requestsFor(role).filter((r) => r.script === script);

/** The last user message the model was sent. */
function lastUserText(r: RecordedRequest): string {
  return userTexts(r).at(-1) ?? '';
}

/** What the planner was told of the reviewer's feedback: one user message per reviewed iteration. */
const feedback = (r: RecordedRequest) => userTexts(r).filter((t) => t.startsWith('Reviewer feedback: '));

function userTexts(r: RecordedRequest): string[] {
  const messages = (r.body as { messages: { role: string; content: unknown }[] }).messages;
  return messages.flatMap((m) => (m.role === 'user' ? [String(m.content)] : []));
}

/** The name of the JSON schema the judge asked the model to answer in. */
const schemaName = (r: RecordedRequest) =>
  (r.body as { response_format?: { json_schema?: { name?: string } } }).response_format?.json_schema?.name;

const verdicts = (events: StoredRunEvent[]) =>
  events.flatMap((e) => (e.type === 'verdict' ? [[e.iteration, e.decision, e.reason]] : []));
const reflections = (events: StoredRunEvent[]) =>
  events.flatMap((e) => (e.type === 'reflection' ? [[e.iteration, e.text, e.model]] : []));

describe('TRIAD_JUDGE_POLICY=answers (the default): the model judges proposed answers', () => {
  const KEY = 'k-judge-gw';
  const scenario: Scenario = {
    scripts: [
      acceptedScript(
        'never-good',
        [{ content: 'Draft one.' }, { content: 'Draft two.' }, { content: 'Draft three.' }],
        [revise('Name the source.'), revise('Give a number.'), revise('Still no number.')],
      ),
      acceptedScript(
        'gw-judged',
        [{ content: 'About forty.' }, { content: 'Exactly 42.' }],
        [revise('Be exact: the goal asks for the number.'), ACCEPT],
      ),
    ],
  };
  let triad: TriadHarness;
  let gw: GatewayClient;
  beforeAll(async () => {
    triad = await TriadHarness.start({ scenario, executors: 1 });
    gw = await GatewayClient.start(triad, { TRIAD_API_KEYS: `judge-bot:${KEY}:admin` });
  });
  afterAll(async () => {
    await triad?.stop();
  });

  it('sends answers back until maxIterations runs out, each critique reaching the planner', async () => {
    const runId = await triad.submit({
      goal: 'goal:never-good',
      runId: 'judge-never-good',
      budget: { maxIterations: 3 },
    });
    const run = await triad.waitForRun(runId);
    expect(run).toMatchObject({
      status: 'budget_exceeded',
      answer: null,
      iteration: 3,
      error: { code: 'budget_exceeded', message: 'maxIterations: 3 used; last answer rejected: Still no number.' },
    });
    expect(run.usage.modelCalls).toBe(6); // three drafts, three reviews

    // Every draft went to the judge, and the planner's next turn carried the critique of each rejected one.
    expect(requestsOf(triad, 'judge', 'never-good')).toHaveLength(3);
    const planner = requestsOf(triad, 'planner', 'never-good');
    expect(planner).toHaveLength(3);
    expect(planner.map(feedback)).toEqual([
      [],
      ['Reviewer feedback: Name the source.'],
      ['Reviewer feedback: Name the source.', 'Reviewer feedback: Give a number.'],
    ]);

    const events = await triad.events(runId);
    expect(verdicts(events)).toEqual([
      [1, 'reject', 'answer sent back for revision'],
      [2, 'reject', 'answer sent back for revision'],
      [3, 'stop', 'maxIterations: 3 used; last answer rejected: Still no number.'],
    ]);
    expect(reflections(events)).toEqual([
      [1, 'Name the source.', 'judge'],
      [2, 'Give a number.', 'judge'],
      [3, 'Still no number.', 'judge'],
    ]);
  });

  it('runs a goal sent through the gateway to a judge that rejects once, then accepts', async () => {
    const sent = await gw.call('POST', '/v1/runs', { key: KEY, body: { goal: 'goal:gw-judged How much?' } });
    expect(sent.status).toBe(202);
    const runId: string = sent.body.runId;
    await triad.waitForRun(runId);

    const read = await gw.call('GET', `/v1/runs/${runId}`, { key: KEY });
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ id: runId, status: 'succeeded', answer: 'Exactly 42.', iteration: 2 });
    const events = await triad.events(runId);
    expect(verdicts(events)).toEqual([
      [1, 'reject', 'answer sent back for revision'],
      [2, 'accept', 'answer accepted'],
    ]);
    const planner = requestsOf(triad, 'planner', 'gw-judged');
    expect(planner.map(feedback)).toEqual([[], ['Reviewer feedback: Be exact: the goal asks for the number.']]);
    expect(requestsOf(triad, 'judge', 'gw-judged').map(schemaName)).toEqual(['answer_review', 'answer_review']);
  });
});

describe('TRIAD_JUDGE_POLICY=always: the model also reflects on every iteration', () => {
  const scenario: Scenario = {
    scripts: [
      acceptedScript(
        // Named so that no other script's goal contains it: a script fits every goal containing its match.
        'reflect-continue',
        [{ content: 'Multiply.', toolCalls: [calc('m', '6 * 7')] }, { content: 'It is {{tool:m.data.result}}.' }],
        [reflect('Say the unit too.'), ACCEPT],
      ),
      acceptedScript(
        'reflect-last',
        [{ content: 'Add.', toolCalls: [calc('a', '1 + 1')] }],
        [reflect('Not done: the goal wants a sentence.')],
      ),
      acceptedScript(
        'reflect-misshapen',
        [{ content: 'Subtract.', toolCalls: [calc('s', '9 - 2')] }, { content: 'It is {{tool:s.data.result}}.' }],
        // An answer review where an iteration review belongs: refused, retried, then the right shape.
        [ACCEPT, reflect(''), ACCEPT],
      ),
    ],
  };
  let triad: TriadHarness;
  beforeAll(async () => {
    triad = await TriadHarness.start({ scenario, executors: 1, env: { TRIAD_JUDGE_POLICY: 'always' } });
  });
  afterAll(async () => {
    await triad?.stop();
  });

  it('continues after an iteration with the model’s critique, which the planner reads', async () => {
    const run = await triad.waitForRun(await triad.submit({ goal: 'goal:reflect-continue', runId: 'judge-reflect' }));
    expect(run).toMatchObject({ status: 'succeeded', answer: 'It is 42.', iteration: 2 });
    expect(run.usage.modelCalls).toBe(4); // two planner turns, an iteration review and an answer review

    const judge = requestsOf(triad, 'judge', 'reflect-continue');
    expect(judge.map(schemaName)).toEqual(['iteration_review', 'answer_review']);
    expect(lastUserText(judge[0])).toContain('Reflect on iteration 1');
    expect(lastUserText(judge[0])).toContain('calculator({"expression":"6 * 7"})');
    const planner = requestsOf(triad, 'planner', 'reflect-continue');
    expect(planner.map(feedback)).toEqual([[], ['Reviewer feedback: Say the unit too.']]);

    const events = await triad.events(run.id);
    expect(verdicts(events)).toEqual([
      [1, 'continue', 'next iteration'],
      [2, 'accept', 'answer accepted'],
    ]);
    expect(reflections(events)).toEqual([
      [1, 'Say the unit too.', 'judge'],
      [2, '', 'judge'],
    ]);
  });

  it('stops on the last iteration with the model’s critique recorded and maxIterations named', async () => {
    const runId = await triad.submit({
      goal: 'goal:reflect-last',
      runId: 'judge-reflect-last',
      budget: { maxIterations: 1 },
    });
    const run = await triad.waitForRun(runId);
    expect(run).toMatchObject({
      status: 'budget_exceeded',
      error: { code: 'budget_exceeded', message: 'maxIterations: 1 of 1 used with no answer' },
    });
    expect(requestsOf(triad, 'judge', 'reflect-last').map(schemaName)).toEqual(['iteration_review']);
    const events = await triad.events(runId);
    expect(verdicts(events)).toEqual([[1, 'stop', 'maxIterations: 1 of 1 used with no answer']]);
    expect(reflections(events)).toEqual([[1, 'Not done: the goal wants a sentence.', 'judge']]);
  });

  it('retries an iteration review in the wrong shape, like any reply that does not parse', async () => {
    const run = await triad.waitForRun(
      await triad.submit({ goal: 'goal:reflect-misshapen', runId: 'judge-reflect-misshapen' }),
    );
    expect(run).toMatchObject({ status: 'succeeded', answer: 'It is 7.' });
    expect(requestsOf(triad, 'judge', 'reflect-misshapen').map(schemaName)).toEqual([
      'iteration_review',
      'iteration_review',
      'answer_review',
    ]);
    const job = await triad.queues.judge.getJob('judge-judge-reflect-misshapen-1');
    expect(job?.stacktrace).toEqual([
      expect.stringMatching(/^BadModelReplyError: judge model reply does not match its schema/),
    ]);
  });
});
