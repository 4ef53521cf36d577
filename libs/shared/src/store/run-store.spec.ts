import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { GoalRequest } from '../contracts/goal-request.js';
import { RunStore } from './run-store.js';

// Against the real Redis: the compare-and-set lives in Lua, which no fake would exercise.
const redis = new Redis(process.env.REDIS_URL || 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
const prefix = `spec${randomBytes(4).toString('hex')}`;
const store = new RunStore(redis, prefix);
const request = GoalRequest.parse({ goal: 'count to three', metadata: { team: 'a' } });

afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});

describe('RunStore', () => {
  beforeAll(async () => {
    expect(await store.create('r1', request, 1_763_900_000_123)).toBe(true);
  });

  it('creates a run once per id and keeps big timestamps exact', async () => {
    expect(await store.create('r1', GoalRequest.parse({ goal: 'other' }))).toBe(false);
    const run = await store.get('r1');
    expect(run).toMatchObject({
      id: 'r1',
      status: 'running',
      phase: 'plan',
      iteration: 1,
      createdAt: 1_763_900_000_123,
    });
    expect(run?.request?.goal).toBe('count to three');
    const events = await store.events('r1');
    expect(events.map((e) => e.type)).toEqual(['goal.received', 'status.changed']);
  });

  it('moves state only from the expected (iteration, phase)', async () => {
    expect(await store.transition('r1', { iteration: 1, phase: 'plan' }, { phase: 'act' })).toBe(true);
    expect(await store.transition('r1', { iteration: 1, phase: 'plan' }, { phase: 'act' })).toBe(false);
    expect(await store.transition('r1', { iteration: 1, phase: 'act' }, { iteration: 2, phase: 'plan' })).toBe(true);
    expect(await store.get('r1')).toMatchObject({ iteration: 2, phase: 'plan' });
  });

  it('records a value once, with its events and usage, and hands the winner to the loser', async () => {
    const schema = z.object({ n: z.number() });
    const ev = [{ type: 'answer.proposed' as const, iteration: 2, answer: 'three' }];
    const [a, b] = await Promise.all([
      store.once('r1', 'k', schema, { n: 1 }, ev, { inputTokens: 10, modelCalls: 1 }),
      store.once('r1', 'k', schema, { n: 2 }, ev, { inputTokens: 10, modelCalls: 1 }),
    ]);
    expect([a.recorded, b.recorded].sort()).toEqual([false, true]);
    expect(a.value).toEqual(b.value);
    expect(await store.getOnce('r1', 'k', schema)).toEqual(a.value);
    const run = await store.get('r1');
    expect(run?.usage).toMatchObject({ inputTokens: 10, modelCalls: 1 });
    expect((await store.events('r1')).filter((e) => e.type === 'answer.proposed')).toHaveLength(1);
  });

  it('adds usage increments, zero ones included, to what is there', async () => {
    const schema = z.object({ n: z.number() });
    await store.once('r1', 'u', schema, { n: 1 }, [], { inputTokens: 5, toolCalls: 0, costUsd: 0 });
    await store.once('r1', 'v', schema, { n: 2 }, [], { toolCalls: 2, costUsd: 0.25, modelCalls: 0 });
    expect((await store.get('r1'))?.usage).toEqual({
      inputTokens: 15,
      outputTokens: 0,
      modelCalls: 1,
      toolCalls: 2,
      costUsd: 0.25,
    });
  });

  it('ends a run once; later transitions and endings are refused', async () => {
    expect(await store.finish('r1', { status: 'succeeded', iteration: 2, answer: 'three', reason: 'ok' })).toBe(true);
    expect(await store.finish('r1', { status: 'failed', iteration: 2, reason: 'late' })).toBe(false);
    expect(await store.transition('r1', { iteration: 2, phase: 'done' }, { phase: 'plan' })).toBe(false);
    const run = await store.get('r1');
    expect(run).toMatchObject({ status: 'succeeded', phase: 'done', answer: 'three', error: null });
    expect(run?.finishedAt).toBeGreaterThanOrEqual(run?.createdAt ?? Infinity);
  });

  it('reads events after a given id, and blocks for new ones', async () => {
    const all = await store.events('r1');
    const tail = await store.events('r1', all[1].id);
    expect(tail.map((e) => e.id)).toEqual(all.slice(2).map((e) => e.id));
    const blocking = redis.duplicate();
    const waiting = store.waitForEvents(blocking, 'r2', '0', 2_000);
    await store.createRejected('r2', { code: 'invalid_goal', message: 'bad' });
    expect((await waiting).map((e) => e.type)).toContain('goal.rejected');
    blocking.disconnect();
    expect(await store.get('r2')).toMatchObject({ status: 'failed', request: null, error: { code: 'invalid_goal' } });
  });

  it('lists runs newest first', async () => {
    expect(await store.list()).toEqual(['r2', 'r1']);
  });
});
