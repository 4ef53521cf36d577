import { afterAll, describe, expect, it } from '@jest/globals';
import {
  GoalRequest,
  type GoalRequestInput,
  jobIds,
  loadConfig,
  PlanDecision,
  RunStore,
  replyOfDecision,
  type SemanticMemory,
  ToolCatalog,
  type ToolSpec,
  TriadError,
} from '@triad/shared';
import { deleteKeys, RecordingStageContext, recordingLoop, ScriptedReasoningModel, specPrefix } from '@triad/testing';
import { Redis } from 'ioredis';
import { LessonRecall } from './lesson-recall.js';
import { PlannerService } from './planner.service.js';

// The planner's own stage (what it asks the model, what it makes of the reply) with its real catalog and store;
// the model is scripted. Where a property needs the record, the stage runs through a RunLoop over recording queues
// (the loop's own protocol is specified in libs/shared/src/loop/run-loop.spec.ts).
const redis = new Redis(process.env.REDIS_URL || 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
const prefix = specPrefix('planner');
const store = new RunStore(redis, prefix);
const catalog = new ToolCatalog(redis, prefix);
const config = loadConfig({ TRIAD_ALLOWED_MODELS: 'fork-model' });
// Recall is off here (lesson-recall.spec.ts specifies it): the memory is never asked.
const noRecall = loadConfig({ TRIAD_TENANT_LIMITS: '{"*":{"memory":{"recall":false}}}' });
const unusedMemory = new Proxy({} as SemanticMemory, {
  get: (_, name) => () => Promise.reject(new Error(`the memory was asked: ${String(name)}`)),
});
const recall = new LessonRecall(store, unusedMemory, noRecall);
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
/** A planner over a scripted model, and a new running run (at iteration 1, phase plan) for it. */
async function setup(
  replies: ConstructorParameters<typeof ScriptedReasoningModel>[0],
  goal: GoalRequestInput = { goal: 'add two numbers' },
) {
  const model = new ScriptedReasoningModel(replies);
  const planner = new PlannerService(catalog, model, config, recall);
  const runId = `r${++runs}`;
  await store.create(runId, GoalRequest.parse(goal));
  const fakes = recordingLoop(store);
  const ctx = new RecordingStageContext();
  const planIteration = (iteration = 1) =>
    fakes.loop.plan({ runId, iteration }, ctx, (view, c) => planner.decide(view, c.signal));
  return { planner, model, runId, planIteration, ...fakes };
}

const view = async (runId: string, iteration = 1) => ({
  run: (await store.get(runId)) ?? (undefined as never),
  iteration,
  events: await store.events(runId),
});

describe('PlannerService.decide', () => {
  it('throws a retryable error, without asking the model, while no executor has published its tools', async () => {
    const { planner, model, runId } = await setup([{ content: 'never' }]);
    const err = await planner.decide(await view(runId)).catch((e) => e);
    expect(err).toBeInstanceOf(TriadError);
    expect((err as TriadError).retryable).toBe(true);
    expect(model.requests).toHaveLength(0);
    await catalog.publish(tools); // every later case has tools
  });

  it('asks the planner model with the run’s conversation, the tools its goal allows, and their secret names', async () => {
    const { planner, model, runId } = await setup([{ content: 'It is 3.' }], {
      goal: 'add two numbers',
      tools: ['calculator'],
    });
    const signal = new AbortController().signal;
    await planner.decide(await view(runId), signal);
    const [request] = model.requests;
    expect(request?.model).toBe(config.model.plannerModel);
    expect(request?.messages.slice(1)).toEqual([{ role: 'user', content: 'add two numbers' }]);
    expect(request?.tools?.map((t) => ('function' in t ? t.function.name : t))).toEqual(['calculator']);
    expect(request?.secretArguments).toEqual({ calculator: [], http_get: ['token'] });
    expect(request?.signal).toBe(signal);
  });

  it('turns tool calls into a decision with step ids, raw arguments for the executor, events without secrets', async () => {
    const { planner, runId } = await setup([
      {
        content: 'Sum, then fetch.',
        toolCalls: [
          { id: 'c1', name: 'calculator', arguments: '{"expression":"1+2"}' },
          { id: 'c2', name: 'http_get', arguments: `{"url":"https://example.com","token":"${SECRET}"}` },
        ],
      },
    ]);
    const { value, events, usage } = await planner.decide(await view(runId));
    expect(value).toMatchObject({ iteration: 1, thought: 'Sum, then fetch.', answer: null });
    expect(value.toolCalls.map((c) => [c.stepId, c.callId, c.tool])).toEqual([
      ['1-0', 'c1', 'calculator'],
      ['1-1', 'c2', 'http_get'],
    ]);
    expect(value.toolCalls[1]?.arguments).toContain(SECRET);
    expect(events.map((e) => e.type)).toEqual(['thought', 'tool.called', 'tool.called']);
    expect(events[0]).toMatchObject({ stage: 'interpret', text: 'Sum, then fetch.' });
    expect(JSON.stringify(events)).not.toContain(SECRET);
    expect(usage).toMatchObject({ modelCalls: 1, inputTokens: 10, outputTokens: 5 });
  });

  it('turns a reply without tool calls into a proposed answer, planned in a later iteration', async () => {
    const { planner, runId } = await setup([{ content: 'It is 3.' }]);
    const { value, events } = await planner.decide(await view(runId, 2));
    expect(value).toMatchObject({ iteration: 2, thought: null, toolCalls: [], answer: 'It is 3.' });
    expect(events.map((e) => e.type)).toEqual(['thought', 'answer.proposed']);
    expect(events[0]).toMatchObject({ stage: 'plan', text: 'proposing an answer' });
  });
});

describe('PlannerService in the loop', () => {
  it('records tool calls without their secrets and hands them off as a flow', async () => {
    const { planIteration, flows, runId } = await setup([
      {
        content: 'Fetch.',
        toolCalls: [{ id: 'c1', name: 'http_get', arguments: `{"url":"https://example.com","token":"${SECRET}"}` }],
      },
    ]);
    expect(await planIteration()).toBe('1 tool calls');
    expect(await store.get(runId)).toMatchObject({ iteration: 1, phase: 'act', usage: { modelCalls: 1 } });
    const events = await store.events(runId);
    expect(events.slice(2).map((e) => e.type)).toEqual(['thought', 'tool.called']);
    expect(JSON.stringify(events)).not.toContain(SECRET);
    // The executor gets the raw arguments from the recorded decision.
    expect((await store.getOnce(runId, 'plan:1', PlanDecision))?.toolCalls[0]?.arguments).toContain(SECRET);
    expect(flows.flows.map((f) => f.children.map((c) => c.opts.jobId))).toEqual([[jobIds.act(runId, '1-0')]]);
  });

  it("asks the run's own model when its goal names one (a fork's), else the server's planner model", async () => {
    const { planner, model, runId } = await setup([{ content: 'ok' }], { goal: 'add', model: 'fork-model' });
    const produced = await planner.decide(await view(runId));
    expect(model.requests.map((r) => r.model)).toEqual(['fork-model']);
    expect(produced.usage).toMatchObject({ modelCalls: 1 });
  });

  it('refuses, before any call, a model the deployment does not allow (the setting narrowed after intake)', async () => {
    const { planner, model, runId } = await setup([{ content: 'ok' }], { goal: 'add', model: 'unpriced-giant' });
    await expect(planner.decide(await view(runId))).rejects.toMatchObject({ code: 'invalid_goal', retryable: false });
    expect(model.requests).toHaveLength(0);
  });

  it('plays a recorded reply instead of asking the model, into the same decision and events', async () => {
    const reply = { model: 'm1', content: 'Add.', toolCalls: [{ id: 'k1', name: 'calculator', arguments: '{"x":1}' }] };
    const live = await setup([reply]);
    const asked = await live.planner.decide(await view(live.runId));
    const played = await setup([]);
    // As a replay gets it: from the decision recorded in the parent's ledger.
    const recorded = replyOfDecision(JSON.stringify(asked.value));
    const replayed = await played.planner.decide({ ...(await view(played.runId)), recorded });
    expect(played.model.requests).toHaveLength(0);
    expect(replayed.value).toEqual(asked.value);
    expect(replayed.events).toEqual(asked.events);
  });

  it('does not ask the model again for a decision on record', async () => {
    const { planIteration, model, runId, judge } = await setup([{ content: 'It is 3.' }]);
    expect(await planIteration()).toBe('answer proposed');
    await redis.hset(store.keys.run(runId), 'phase', 'plan');
    expect(await planIteration()).toBe('answer proposed');
    expect(model.requests).toHaveLength(1);
    expect((await store.get(runId))?.usage.modelCalls).toBe(1);
    expect(judge.jobs.map((j) => j.opts.jobId)).toEqual([jobIds.judge(runId, 1), jobIds.judge(runId, 1)]);
  });

  it('shows the model the iterations before, from the run’s events', async () => {
    const { planIteration, model, runId } = await setup([
      { content: 'Sum.', toolCalls: [{ id: 'c1', name: 'calculator', arguments: '{"expression":"1+2"}' }] },
      { content: 'It is 3.' },
    ]);
    await planIteration();
    await redis.hset(store.keys.run(runId), { iteration: 2, phase: 'plan' });
    expect(await planIteration(2)).toBe('answer proposed');
    const roles = model.requests[1]?.messages.map((m) => m.role);
    expect(roles).toEqual(['system', 'user', 'assistant', 'tool']);
  });
});
