import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  BadModelReplyError,
  Embedder,
  GoalRequest,
  type GoalRequestInput,
  loadConfig,
  type NewRunEvent,
  OpenAIReasoningModel,
  RedisSemanticMemory,
  RunStore,
  SpendCappedModel,
  splitStoreRunId,
  storeRunId,
  TenantUsageStore,
  type TriadConfig,
} from '@triad/shared';
import { deleteKeys, type ScriptedModelServer, specPrefix, startScriptedModelServer } from '@triad/testing';
import { Redis } from 'ioredis';
import { LessonDistiller } from './lesson-distiller.js';

// The distiller with its real parts: the run store and the semantic memory on Redis, the judge model and the
// embeddings over HTTP (the scripted model server, through the openai client), tenant spend caps on Redis.
const redis = new Redis(process.env.REDIS_URL || 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
const prefix = specPrefix('distiller');
const store = new RunStore(redis, prefix);
const LESSON = 'The booking API wants dates as YYYY-MM-DD; "March 5" is refused with HTTP 400.';
let model: ScriptedModelServer;
let config: TriadConfig;
let memory: RedisSemanticMemory;
let distiller: LessonDistiller;

const lessons = (list: unknown[]) => ({ output: { lessons: list } });

beforeAll(async () => {
  model = await startScriptedModelServer({
    scenario: {
      scripts: [
        {
          match: 'Distil lessons',
          turnBy: { judge: 'lastMessage' },
          turns: {
            judge: [
              { when: 'goal:good', ...lessons([{ text: LESSON, tags: ['Dates'] }]) },
              { when: 'goal:prose', content: 'Dates should be ISO.' },
              { when: 'goal:many', ...lessons([1, 2, 3, 4].map((i) => ({ text: `lesson ${i}`, tags: [] }))) },
              lessons([]),
            ],
          },
        },
      ],
    },
  });
  config = loadConfig({
    TRIAD_PREFIX: prefix,
    OPENAI_BASE_URL: `${model.url}/v1`,
    OPENAI_API_KEY: 'k',
    TRIAD_JUDGE_MODEL: 'judge',
    TRIAD_MODEL_MAX_RETRIES: '0',
    TRIAD_TENANT_LIMITS: JSON.stringify({ capped: { maxTokensPerDay: 10 } }),
  });
  memory = new RedisSemanticMemory(redis, config, new Embedder(config));
  const judge = new SpendCappedModel(
    new OpenAIReasoningModel(config.model),
    new TenantUsageStore(redis, prefix),
    config,
  );
  distiller = new LessonDistiller(store, memory, judge, config);
});
afterAll(async () => {
  await model.close();
  await deleteKeys(redis, prefix);
  await redis.quit();
});

const at = 0;
/** A tool call of iteration 1 whose result was an HTTP 400 naming the date format, and the judge's critique. */
const stumbled: NewRunEvent[] = [
  { type: 'tool.called', iteration: 1, stepId: '1-0', callId: 'c', tool: 'http_get', arguments: '{"date":"March 5"}' },
  {
    type: 'observation',
    iteration: 1,
    stepId: '1-0',
    callId: 'c',
    tool: 'http_get',
    executor: 'e',
    durationMs: 1,
    observation: { ok: true, data: { status: 400, body: 'dates must be YYYY-MM-DD' } },
  },
  { type: 'reflection', iteration: 1, text: 'Send an ISO date.', checks: [], model: 'judge' },
];

let runs = 0;
/** An ended run of `tenant` with these events, ended `succeeded` in iteration 3 unless said otherwise. */
async function endedRun(goal: GoalRequestInput, events: NewRunEvent[], tenant = 'default', iteration = 3) {
  const id = storeRunId(tenant, `r${++runs}`);
  await store.create(id, GoalRequest.parse(goal));
  await store.note(id, events.map((e) => ({ at, ...e })) as NewRunEvent[]);
  // Where the loop would have moved it by then.
  await redis.hset(store.keys.run(id), 'iteration', String(iteration));
  await store.finish(id, { status: 'succeeded', iteration, answer: 'ok', reason: 'accepted' });
  return id;
}
const learnedEvents = async (id: string) => (await store.events(id)).filter((e) => e.type === 'memory.learned');
const distillRequests = () => model.requests.filter((r) => r.role === 'judge').length;

describe('LessonDistiller', () => {
  it('stores the lessons of a run that stumbled, with the run as source, once', async () => {
    const id = await endedRun({ goal: 'goal:good book a room' }, stumbled);
    const asked = distillRequests();
    expect(await distiller.distill(id)).toMatch(/^1 lessons learned, 0 known already \(the judge critiqued/);
    expect(distillRequests()).toBe(asked + 1);
    const [event, ...more] = await learnedEvents(id);
    expect(more).toEqual([]);
    expect(event).toMatchObject({ lessons: [{ text: LESSON, untrusted: true }], duplicates: 0 });
    const { runId } = splitStoreRunId(id);
    const page = await memory.list('default', { sourceRunId: runId, limit: 10 });
    expect(page.entries).toEqual([
      expect.objectContaining({
        kind: 'lesson',
        text: LESSON,
        tags: ['dates'],
        untrusted: true,
        source: { origin: 'judge', runId, stepId: null },
      }),
    ]);
    // A redelivered job asks nothing and records nothing again.
    expect(await distiller.distill(id)).toBe('learned already');
    expect(distillRequests()).toBe(asked + 1);
    expect(await learnedEvents(id)).toHaveLength(1);
  });

  it('a lesson known already is refreshed, not added', async () => {
    const id = await endedRun({ goal: 'goal:good book a room again' }, stumbled);
    await distiller.distill(id);
    expect(await learnedEvents(id)).toEqual([expect.objectContaining({ lessons: [], duplicates: 1 })]);
  });

  it('asks no model for a run with nothing to learn, or with learning off', async () => {
    const asked = distillRequests();
    const smooth = await endedRun({ goal: 'goal:good' }, [
      { type: 'reflection', iteration: 1, text: '', checks: [], model: null },
    ]);
    expect(await distiller.distill(smooth)).toMatch(/^nothing to learn/);
    const off = await endedRun({ goal: 'goal:good', memory: { recall: true, learn: false } }, stumbled);
    expect(await distiller.distill(off)).toMatch(/^nothing to learn: learning is off/);
    expect(distillRequests()).toBe(asked);
    expect(await learnedEvents(smooth)).toEqual([]);
  });

  it('a reply that is not entirely valid stores nothing and fails (the job is retried)', async () => {
    for (const goal of ['goal:prose', 'goal:many']) {
      const id = await endedRun({ goal }, stumbled);
      await expect(distiller.distill(id)).rejects.toThrow(BadModelReplyError);
      expect(await learnedEvents(id)).toEqual([]);
      const page = await memory.list('default', { sourceRunId: splitStoreRunId(id).runId, limit: 10 });
      expect(page.entries).toEqual([]);
    }
  });

  it("a tenant at its daily cap learns nothing (the call is charged to the tenant's spend)", async () => {
    const asked = distillRequests();
    const id = await endedRun({ goal: 'goal:good capped' }, stumbled, 'capped');
    expect(await distiller.distill(id)).toMatch(/^skipped: tenant capped: maxTokensPerDay 10 reached/);
    expect(distillRequests()).toBe(asked);
    expect(await learnedEvents(id)).toEqual([]);
  });

  it('lessons of a run whose calls Triad refused itself are trusted; an empty list is recorded too', async () => {
    const refused: NewRunEvent[] = [
      {
        type: 'observation',
        iteration: 1,
        stepId: '1-0',
        callId: 'c',
        tool: 'http_post',
        executor: 'e',
        durationMs: 0,
        observation: { ok: false, error: { code: 'tool_not_allowed', message: 'no', retryable: false } },
      },
    ];
    const id = await endedRun({ goal: 'goal:good trusted' }, refused, 'trusting');
    await distiller.distill(id);
    const [event] = await learnedEvents(id);
    expect(event).toMatchObject({ lessons: [{ untrusted: false }] });
    const none = await endedRun({ goal: 'goal:nothing' }, refused);
    expect(await distiller.distill(none)).toMatch(/^0 lessons learned/);
    expect(await learnedEvents(none)).toEqual([expect.objectContaining({ lessons: [], duplicates: 0 })]);
  });
});
