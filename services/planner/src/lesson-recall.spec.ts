import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  Embedder,
  GoalRequest,
  type GoalRequestInput,
  loadConfig,
  RECALLED_LESSONS,
  RecalledLessons,
  RedisSemanticMemory,
  RunStore,
  storeRunId,
  type TriadConfig,
} from '@triad/shared';
import { deleteKeys, type ScriptedModelServer, specPrefix, startScriptedModelServer } from '@triad/testing';
import { Redis } from 'ioredis';
import { LessonRecall, MIN_LESSON_SCORE } from './lesson-recall.js';

// Recall at the first plan with its real parts: the run store and the semantic memory on Redis, the embeddings over
// HTTP from the scripted model server (similar texts get similar vectors).
const redis = new Redis(process.env.REDIS_URL || 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
const prefix = specPrefix('recall');
const store = new RunStore(redis, prefix);
const LESSON = 'The room booking API wants dates as YYYY-MM-DD: "March 5" is refused.';
const GOAL = 'find a free meeting room on March 5 with the room booking API';
let model: ScriptedModelServer;
let config: TriadConfig;
let memory: RedisSemanticMemory;
let recall: LessonRecall;

beforeAll(async () => {
  model = await startScriptedModelServer({ scenario: { scripts: [] } });
  config = loadConfig({
    TRIAD_PREFIX: prefix,
    OPENAI_BASE_URL: `${model.url}/v1`,
    OPENAI_API_KEY: 'k',
    TRIAD_MODEL_MAX_RETRIES: '0',
    TRIAD_TENANT_LIMITS: JSON.stringify({ acme: { memory: { recall: false } } }),
  });
  memory = new RedisSemanticMemory(redis, config, new Embedder(config));
  recall = new LessonRecall(store, memory, config);
  const source = { origin: 'judge' as const, runId: 'r0', stepId: null };
  for (const tenant of ['default', 'acme']) {
    await memory.write({ tenant, kind: 'lesson', text: LESSON, tags: [], source, untrusted: true });
    await memory.write({ tenant, kind: 'fact', text: GOAL, tags: [], source, untrusted: false });
    await memory.write({
      tenant,
      kind: 'lesson',
      text: 'Lisbon is the capital of Portugal.',
      tags: [],
      source,
      untrusted: false,
    });
  }
});
afterAll(async () => {
  await model.close();
  await deleteKeys(redis, prefix);
  await redis.quit();
});

let runs = 0;
async function firstPlan(goal: GoalRequestInput, tenant = 'default') {
  const id = storeRunId(tenant, `r${++runs}`);
  await store.create(id, GoalRequest.parse(goal));
  const view = async () => ({ run: (await store.get(id)) as never, iteration: 1, events: await store.events(id) });
  return { id, view };
}
const embeddings = () => model.embeddingRequests.length;

describe('LessonRecall', () => {
  it("gives the first plan the tenant's close lessons (not facts, not unrelated ones), searched and recorded once", async () => {
    const { id, view } = await firstPlan({ goal: GOAL });
    const before = embeddings();
    const v = await view();
    const lessons = await recall.lessonsFor(v);
    expect(lessons).toEqual([
      { id: expect.any(String), text: LESSON, score: expect.any(Number), untrusted: true, sourceRunId: 'r0' },
    ]);
    expect(lessons[0]?.score).toBeGreaterThanOrEqual(MIN_LESSON_SCORE);
    expect(embeddings()).toBe(before + 1);
    const recalled = (await store.events(id)).filter((e) => e.type === 'memory.recalled');
    expect(recalled).toEqual([expect.objectContaining({ iteration: 1, lessons })]);
    // A redelivered plan (the same view, read before the record) gets the same lessons, with no second embedding.
    expect(await recall.lessonsFor(v)).toEqual(lessons);
    expect(await recall.lessonsFor(await view())).toEqual(lessons);
    expect(embeddings()).toBe(before + 1);
    expect((await store.events(id)).filter((e) => e.type === 'memory.recalled')).toHaveLength(1);
    // Later iterations take them from the event.
    expect(await recall.lessonsFor({ ...(await view()), iteration: 2 })).toEqual(lessons);
  });

  it('records an empty choice without an event when nothing is close, and does not search again', async () => {
    const { id, view } = await firstPlan({ goal: 'translate a poem into Latin' });
    const before = embeddings();
    expect(await recall.lessonsFor(await view())).toEqual([]);
    expect(await recall.lessonsFor(await view())).toEqual([]);
    expect(embeddings()).toBe(before + 1);
    expect(await store.getOnce(id, RECALLED_LESSONS, RecalledLessons)).toEqual([]);
    expect((await store.events(id)).some((e) => e.type === 'memory.recalled')).toBe(false);
  });

  it('searches nothing when the goal or the tenant turned recall off', async () => {
    const before = embeddings();
    const off = await firstPlan({ goal: GOAL, memory: { recall: false, learn: true } });
    expect(await recall.lessonsFor(await off.view())).toEqual([]);
    const acme = await firstPlan({ goal: GOAL, memory: { recall: true, learn: true } }, 'acme');
    expect(await recall.lessonsFor(await acme.view())).toEqual([]);
    expect(embeddings()).toBe(before);
  });

  it("a replay gives its live model its recording's lessons, without searching", async () => {
    const recorded = [{ id: 'm9', text: 'recorded lesson', score: 0.9, untrusted: false, sourceRunId: 'r0' }];
    const { id, view } = await firstPlan({ goal: GOAL, replayOf: { runId: 'r0', liveModel: true } });
    await redis.hset(store.keys.once(id), `rec:${RECALLED_LESSONS}`, JSON.stringify(recorded));
    const before = embeddings();
    expect(await recall.lessonsFor(await view())).toEqual(recorded);
    expect(embeddings()).toBe(before);
  });
});
