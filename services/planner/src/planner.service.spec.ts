import { afterAll, describe, expect, it } from '@jest/globals';
import {
  GoalRequest,
  type GoalRequestInput,
  jobIds,
  loadConfig,
  QUEUES,
  RunFinisher,
  RunStore,
  ToolCatalog,
  type ToolSpec,
  TriadError,
} from '@triad/shared';
import { deleteKeys, RecordingFlows, RecordingQueue, ScriptedReasoningModel, specPrefix } from '@triad/testing';
import type { FlowProducer, Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { PlannerService } from './planner.service.js';

// The planner's decisions with its real logic and real store (the compare-and-set lives in Lua, on Redis); the
// model, the queues and the flow producer are fakes that record what they were asked.
const redis = new Redis(process.env.REDIS_URL || 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
const prefix = specPrefix('planner');
const store = new RunStore(redis, prefix);
const catalog = new ToolCatalog(redis, prefix);
const SECRET = 'sk-planner-spec';
const spec = (name: string, secretArguments: string[]): ToolSpec => ({
  name,
  description: name,
  risk: 'read',
  parameters: { type: 'object' },
  strict: true,
  secretArguments,
});
const tools = [spec('calculator', []), spec('http_get', ['token'])];

afterAll(async () => {
  await deleteKeys(redis, prefix);
  await redis.quit();
});

let runs = 0;
/** A planner over fresh fakes, and a new running run (at iteration 1, phase plan) for it. */
async function setup(
  replies: ConstructorParameters<typeof ScriptedReasoningModel>[0],
  goal: GoalRequestInput = {
    goal: 'add two numbers',
  },
  createdAt = Date.now(),
) {
  const model = new ScriptedReasoningModel(replies);
  const [planQueue, judgeQueue, results, flows] = [
    new RecordingQueue(QUEUES.plan),
    new RecordingQueue(QUEUES.judge),
    new RecordingQueue(QUEUES.results),
    new RecordingFlows(),
  ];
  const finisher = new RunFinisher(store, results as unknown as Queue);
  const planner = new PlannerService(
    store,
    finisher,
    catalog,
    model,
    { ...loadConfig({}), jobAttempts: 3 },
    judgeQueue as unknown as Queue,
    flows as unknown as FlowProducer,
  );
  const runId = `r${++runs}`;
  await store.create(runId, GoalRequest.parse(goal), createdAt);
  return { planner, model, judgeQueue, results, flows, runId, planQueue };
}

const types = async (runId: string) => (await store.events(runId)).map((e) => e.type);

describe('PlannerService decisions', () => {
  it('throws a retryable error, without asking the model, while no executor has published its tools', async () => {
    const { planner, model, runId } = await setup([{ content: 'never' }]);
    const err = await planner.plan(runId, 1).catch((e) => e);
    expect(err).toBeInstanceOf(TriadError);
    expect((err as TriadError).retryable).toBe(true);
    expect(model.requests).toHaveLength(0);
    await catalog.publish(tools); // every later case has tools
  });

  it('does nothing for a run that does not exist', async () => {
    const { planner, model } = await setup([]);
    expect(await planner.plan('missing-run', 1)).toBe('run missing-run does not exist');
    expect(model.requests).toHaveLength(0);
  });

  it('republishes the result of a run that has ended, without asking the model', async () => {
    const { planner, model, results, runId } = await setup([]);
    await store.finish(runId, { status: 'cancelled', iteration: 1, reason: 'stop' });
    expect(await planner.plan(runId, 1)).toBe('run already cancelled');
    expect(results.jobs.map((j) => j.opts.jobId)).toEqual([jobIds.runFinished(runId)]);
    expect(model.requests).toHaveLength(0);
  });

  it('ends the run as budget_exceeded before the model call when the budget is used up', async () => {
    const { planner, model, results, runId } = await setup(
      [{ content: 'never' }],
      { goal: 'slow', budget: { timeoutMs: 1_000 } },
      Date.now() - 5_000,
    );
    expect(await planner.plan(runId, 1)).toBe('timeoutMs: run older than 1000 ms');
    expect(model.requests).toHaveLength(0);
    expect(await store.get(runId)).toMatchObject({ status: 'budget_exceeded', usage: { modelCalls: 0 } });
    expect(results.jobs).toHaveLength(1);
  });

  it('turns tool calls into a flow: a judge parent observing, one act child per call, secrets out of events', async () => {
    const { planner, flows, judgeQueue, runId } = await setup([
      {
        content: 'Sum, then fetch.',
        toolCalls: [
          { id: 'c1', name: 'calculator', arguments: '{"expression":"1+2"}' },
          { id: 'c2', name: 'http_get', arguments: `{"url":"https://example.com","token":"${SECRET}"}` },
        ],
      },
    ]);
    expect(await planner.plan(runId, 1)).toBe('2 tool calls');
    expect(await store.get(runId)).toMatchObject({ iteration: 1, phase: 'act', usage: { modelCalls: 1 } });
    expect(judgeQueue.jobs).toHaveLength(0);
    expect(flows.flows).toHaveLength(1);
    const [flow] = flows.flows;
    expect([flow?.queueName, flow?.opts.jobId, flow?.data]).toEqual([
      'judge',
      jobIds.judge(runId, 1),
      { runId, iteration: 1, kind: 'observe' },
    ]);
    expect(flow?.children.map((c) => [c.queueName, c.opts.jobId, c.data])).toEqual([
      ['act', jobIds.act(runId, '1-0'), { runId, iteration: 1, stepId: '1-0' }],
      ['act', jobIds.act(runId, '1-1'), { runId, iteration: 1, stepId: '1-1' }],
    ]);
    const events = await store.events(runId);
    expect(events.slice(2).map((e) => e.type)).toEqual(['thought', 'tool.called', 'tool.called']);
    expect(JSON.stringify(events)).not.toContain(SECRET);
  });

  it('sends a reply without tool calls to the judge as a proposed answer', async () => {
    const { planner, flows, judgeQueue, runId } = await setup([{ content: 'It is 3.' }]);
    expect(await planner.plan(runId, 1)).toBe('answer proposed');
    expect(await store.get(runId)).toMatchObject({ iteration: 1, phase: 'judge' });
    expect(flows.flows).toHaveLength(0);
    expect(judgeQueue.jobs.map((j) => [j.name, j.opts.jobId, j.data])).toEqual([
      ['judge', jobIds.judge(runId, 1), { runId, iteration: 1, kind: 'answer' }],
    ]);
    expect((await types(runId)).slice(2)).toEqual(['thought', 'answer.proposed']);
  });

  it('repeats only the hand-off when a plan job is delivered again after the run moved on', async () => {
    const { planner, model, judgeQueue, runId } = await setup([{ content: 'It is 3.' }, { content: 'again?' }]);
    await planner.plan(runId, 1);
    const before = await store.events(runId);
    expect(await planner.plan(runId, 1)).toBe('duplicate: run is at 1/judge');
    expect(model.requests).toHaveLength(1);
    // The same deterministic job id twice: BullMQ keeps one; a first delivery that died before it is rescued.
    expect(judgeQueue.jobs.map((j) => j.opts.jobId)).toEqual([jobIds.judge(runId, 1), jobIds.judge(runId, 1)]);
    expect(await store.events(runId)).toEqual(before);
  });

  it('ignores a plan job for an iteration the run is not at', async () => {
    const { planner, model, judgeQueue, flows, runId } = await setup([{ content: 'never' }]);
    expect(await planner.plan(runId, 2)).toBe('duplicate: run is at 1/plan');
    expect([model.requests.length, judgeQueue.jobs.length, flows.flows.length]).toEqual([0, 0, 0]);
  });

  it('reuses a recorded decision instead of asking the model again (a retry after a crash)', async () => {
    const { planner, model, runId } = await setup([{ content: 'It is 3.' }]);
    await planner.plan(runId, 1);
    // As if the first delivery recorded its decision and died before moving the run.
    await store.transition(runId, { iteration: 1, phase: 'judge' }, { phase: 'plan' });
    expect(await planner.plan(runId, 1)).toBe('answer proposed');
    expect(model.requests).toHaveLength(1);
    expect((await store.get(runId))?.usage.modelCalls).toBe(1);
  });
});
