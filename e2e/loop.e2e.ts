// The agent loop end to end: planner, two executors and judge as separate processes, real Redis, the scripted
// model over HTTP through the real openai client.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Scenario } from '@triad/testing';
import { stagesByIteration } from './support/event-order.js';
import { ACCEPT, acceptedScript, calc, verdict } from './support/scripts.js';
import { TriadHarness } from './support/triad-harness.js';

const scenario: Scenario = {
  scripts: [
    acceptedScript(
      'parallel',
      [
        { content: 'Two independent sums first.', toolCalls: [calc('p1a', '1 + 2 * 3'), calc('p1b', '(1 + 2) * 3')] },
        {
          content: 'Now look at the data.',
          toolCalls: [
            { id: 'p2a', name: 'list_files', arguments: { path: 'cities' } },
            { id: 'p2b', name: 'read_file', arguments: { path: 'cities/porto.json' } },
          ],
        },
        { content: 'The results are {{tool:p1a.data.result}} and {{tool:p1b.data.result}}.' },
      ],
      [ACCEPT],
    ),
    acceptedScript(
      'critique',
      [{ content: 'A first draft.' }, { content: 'A revised answer with the missing detail.' }],
      [verdict('revise', 'The draft lacks the detail.'), ACCEPT],
    ),
    acceptedScript(
      'selfcorrect',
      [
        {
          content: 'Try a tool that does not exist.',
          toolCalls: [{ id: 's1', name: 'teleport', arguments: { to: 'mars' } }],
        },
        {
          content: 'Use the calculator.',
          toolCalls: [{ id: 's2', name: 'calculator', arguments: '{"expression": "2+' }],
        },
        { content: 'Fix the arguments.', toolCalls: [calc('s3', '2 + 2')] },
        { content: 'It is {{tool:s3.data.result}}.' },
      ],
      [ACCEPT],
    ),
    acceptedScript(
      'spread',
      [
        { content: 'Six sums at once.', toolCalls: [1, 2, 3, 4, 5, 6].map((i) => calc(`w${i}`, `${i} * 100`)) },
        { content: 'Done.' },
      ],
      [ACCEPT],
    ),
  ],
};

let triad: TriadHarness;

beforeAll(async () => {
  // One job at a time per executor, so that six parallel calls have to spread over both executors.
  triad = await TriadHarness.start({ scenario, executors: 2, env: { TRIAD_EXECUTOR_CONCURRENCY: '1' } });
});
afterAll(async () => {
  await triad?.stop();
});

const plannerRequests = (script: string) => triad.plannerMessages(script);

describe('the agent loop', () => {
  it('runs several iterations with parallel tool calls, in stage order, and shows the model the observations', async () => {
    const runId = await triad.submit({ goal: 'goal:parallel — compute and look', runId: 'loop-parallel' });
    const run = await triad.waitForRun(runId);
    expect(run.status).toBe('succeeded');
    expect(run.answer).toBe('The results are 7 and 9.');
    expect(run.iteration).toBe(3);
    expect(run.usage).toMatchObject({ toolCalls: 4, modelCalls: 4 });
    expect(run.usage.inputTokens).toBeGreaterThan(0);

    const events = await triad.events(runId);
    expect(stagesByIteration(events)).toEqual({
      1: ['interpret', 'act', 'observe', 'reflect'],
      2: ['plan', 'act', 'observe', 'reflect'],
      3: ['plan', 'answer', 'reflect'],
    });
    expect(events.at(-1)).toMatchObject({ type: 'status.changed', to: 'succeeded' });

    const [, second, third] = plannerRequests('parallel');
    const toolMessages = second.filter((m) => m.role === 'tool');
    expect(toolMessages.map((m) => m.role === 'tool' && m.tool_call_id)).toEqual(['p1a', 'p1b']);
    expect(JSON.parse(String(toolMessages[0].content))).toEqual({
      ok: true,
      data: { expression: '1 + 2 * 3', result: 7 },
    });
    const porto = third.find((m) => m.role === 'tool' && m.tool_call_id === 'p2b');
    expect(JSON.parse(String(porto?.content)).data.content).toContain('"city": "Porto"');
    // The model was offered the executors' tools as strict function definitions.
    const tools = (triad.model.requests[0].body.tools as { function: { name: string } }[]).map((t) => t.function.name);
    expect(tools).toEqual(expect.arrayContaining(['calculator', 'list_files', 'read_file']));
  });

  it('sends a rejected answer back with the critique, and accepts the revision', async () => {
    const run = await triad.waitForRun(await triad.submit({ goal: 'goal:critique', runId: 'loop-critique' }));
    expect(run).toMatchObject({
      status: 'succeeded',
      answer: 'A revised answer with the missing detail.',
      iteration: 2,
    });
    const verdicts = (await triad.events(run.id)).filter((e) => e.type === 'verdict').map((e) => e.decision);
    expect(verdicts).toEqual(['reject', 'accept']);
    const revisionRequest = plannerRequests('critique')[1];
    expect(revisionRequest.at(-1)).toEqual({ role: 'user', content: 'Reviewer feedback: The draft lacks the detail.' });
  });

  it('turns an unknown tool and broken arguments into error observations the model can correct', async () => {
    const run = await triad.waitForRun(await triad.submit({ goal: 'goal:selfcorrect', runId: 'loop-selfcorrect' }));
    expect(run).toMatchObject({ status: 'succeeded', answer: 'It is 4.' });
    const observations = (await triad.events(run.id)).flatMap((e) => (e.type === 'observation' ? [e.observation] : []));
    expect(observations.map((o) => (o.ok ? 'ok' : o.error.code))).toEqual(['unknown_tool', 'invalid_arguments', 'ok']);
    const second = plannerRequests('selfcorrect')[1];
    const unknown = JSON.parse(String(second.find((m) => m.role === 'tool')?.content));
    expect(unknown.error.message).toMatch(/teleport/);
    expect(unknown.error.message).toMatch(/calculator/);
  });

  it('spreads six parallel calls of one run over both executor processes', async () => {
    const run = await triad.waitForRun(await triad.submit({ goal: 'goal:spread', runId: 'loop-spread' }));
    expect(run.status).toBe('succeeded');
    const observations = (await triad.events(run.id)).flatMap((e) => (e.type === 'observation' ? [e] : []));
    expect(observations).toHaveLength(6);
    expect(new Set(observations.map((o) => o.executor))).toEqual(new Set(['executor-1', 'executor-2']));
    expect(
      observations.map((o) => (o.observation.ok ? (o.observation.data as { result: number }).result : null)).sort(),
    ).toEqual([100, 200, 300, 400, 500, 600]);
  });
});
