import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { RunPhase } from '@triad/contracts';
import { GoalRequest, type GoalRequestInput } from '@triad/contracts';
import { Redis } from 'ioredis';
import { z } from 'zod';
import type { NewRunEvent } from './run-store.js';
import { RunStore } from './run-store.js';

// Against the real Redis: the compare-and-set lives in Lua, which no fake would exercise.
const url = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const redis = new Redis(url, { maxRetriesPerRequest: null });
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
    const step = (once: string, iteration: number, phases: RunPhase[], to: { iteration?: number; phase: RunPhase }) =>
      store.advance('r1', { once, value: '{"n":0}', from: { iteration, phases }, to });
    expect(await step('plan:1', 1, ['plan'], { phase: 'act' })).toEqual({ recorded: true, outcome: 'moved' });
    expect(await step('plan:1', 1, ['plan'], { phase: 'act' })).toEqual({
      recorded: false,
      outcome: 'elsewhere',
      iteration: 1,
      phase: 'act',
    });
    expect(await step('verdict:1', 1, ['act', 'judge'], { iteration: 2, phase: 'plan' })).toMatchObject({
      outcome: 'moved',
    });
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

  it('records nothing for a run that is gone: a late step never brings back its keys', async () => {
    const schema = z.object({ n: z.number() });
    const ev = [{ type: 'answer.proposed' as const, iteration: 1, answer: 'late' }];
    const late = await store.once('gone-run', 'step:1-0', schema, { n: 1 }, ev, { inputTokens: 3 });
    expect(late).toEqual({ value: { n: 1 }, recorded: false });
    for (const key of store.keys.runKeys('gone-run')) expect([key, await redis.exists(key)]).toEqual([key, 0]);
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

  it('ends a run once, returning the ended record; later moves and endings are refused', async () => {
    const ended = await store.finish('r1', { status: 'succeeded', iteration: 2, answer: 'three', reason: 'ok' });
    expect(ended).toEqual(await store.get('r1'));
    expect(ended).toMatchObject({ status: 'succeeded', phase: 'done', answer: 'three', error: null, iteration: 2 });
    expect(ended?.finishedAt).toBeGreaterThanOrEqual(ended?.createdAt ?? Infinity);
    expect(await store.finish('r1', { status: 'failed', iteration: 2, reason: 'late' })).toBeNull();
    const late = { once: 'plan:2', value: '{}', from: { iteration: 2, phases: ['plan' as const] } };
    expect(await store.advance('r1', { ...late, to: { phase: 'act' } })).toMatchObject({
      outcome: 'ended',
      status: 'succeeded',
    });
    // The stage's value is still recorded (its model call was paid), but the ended run does not move.
    expect(await store.get('r1')).toMatchObject({ status: 'succeeded', phase: 'done', iteration: 2, answer: 'three' });
  });

  it('scrubs credentials from a run error when it records it', async () => {
    await store.create('r3', request);
    const message = 'model said: Authorization: Bearer sk-abcdefghijklmnopqrstuvwx';
    const ended = await store.finish('r3', {
      status: 'failed',
      iteration: 1,
      error: { code: 'internal_error', message },
      reason: message,
    });
    expect(JSON.stringify(ended)).not.toContain('sk-abcdefghijklmnopqrstuvwx');
    expect(JSON.stringify(await store.events('r3'))).not.toContain('sk-abcdefghijklmnopqrstuvwx');
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
    expect(await store.list('default')).toEqual(['r2', 'r3', 'r1']);
  });
});

let n = 0;
/** A new running run at (iteration, phase). */
async function runAt(
  iteration = 1,
  phase: RunPhase = 'plan',
  goal: GoalRequestInput = { goal: 'g' },
  createdAt?: number,
) {
  const id = `s${++n}`;
  await store.create(id, GoalRequest.parse(goal), createdAt);
  await redis.hset(store.keys.run(id), { iteration, phase });
  return id;
}
const thought = (iteration: number, text: string): NewRunEvent => ({
  type: 'thought',
  iteration,
  stage: 'plan',
  text,
  model: 'm',
  inputTokens: 1,
  outputTokens: 1,
});

describe('RunStore.read', () => {
  it('reads the record, the once values asked for, the events and a model admission', async () => {
    const id = await runAt();
    await store.once(id, 'plan:1', z.object({ n: z.number() }), { n: 1 });
    const read = await store.read(id, { once: ['plan:1', 'verdict:1'], events: true, admitModel: true });
    expect(read).toEqual({
      run: await store.get(id),
      once: { 'plan:1': '{"n":1}', 'verdict:1': null },
      events: await store.events(id),
      admission: { admitted: true },
    });
    expect(await store.read(id)).toEqual({ run: await store.get(id), once: {}, events: [], admission: null });
  });

  it('reads a refused admission (used-up budget, ended or missing run) without reserving anything', async () => {
    const old = await runAt(1, 'plan', { goal: 'slow', budget: { timeoutMs: 1_000 } }, Date.now() - 5_000);
    expect((await store.read(old, { admitModel: true })).admission).toEqual({
      admitted: false,
      limit: 'timeoutMs',
      message: 'timeoutMs: run older than 1000 ms',
    });
    const ended = await runAt();
    await store.finish(ended, { status: 'cancelled', iteration: 1, reason: 'stop' });
    expect((await store.read(ended, { admitModel: true })).admission).toEqual({
      admitted: false,
      ended: 'cancelled',
    });
    const missing = await store.read('no-such-run', { once: ['plan:1'], events: true, admitModel: true });
    expect(missing).toEqual({
      run: null,
      once: { 'plan:1': null },
      events: [],
      admission: { admitted: false, ended: 'gone' },
    });
    expect(await redis.exists(store.keys.admitted(old), store.keys.admitted(ended))).toBe(0);
  });

  it('takes one round trip: every command in one write to the socket', async () => {
    const conn = new Redis(url, { maxRetriesPerRequest: null });
    try {
      const own = new RunStore(conn, prefix);
      const id = await runAt();
      const all = { once: ['plan:1', 'verdict:1'], events: true, admitModel: true };
      await own.read(id, all); // warm the connection first
      const socket = (conn as unknown as { stream: { write: (...args: unknown[]) => boolean } }).stream;
      const writes = jest.spyOn(socket, 'write');
      await own.read(id, all);
      expect(writes).toHaveBeenCalledTimes(1);
    } finally {
      await conn.quit();
    }
  });
});

describe('RunStore.advance', () => {
  const plan = (value: string, events: NewRunEvent[] = []) => ({
    once: 'plan:1',
    value,
    events,
    usage: { modelCalls: 1, inputTokens: 4 },
    from: { iteration: 1, phases: ['plan' as RunPhase] },
    to: { phase: 'act' as RunPhase },
  });

  it('records the value with its events and usage, and moves the run, in one step', async () => {
    const id = await runAt();
    expect(await store.advance(id, plan('{"a":1}', [thought(1, 'first')]))).toEqual({
      recorded: true,
      outcome: 'moved',
    });
    expect(await redis.hget(store.keys.once(id), 'plan:1')).toBe('{"a":1}');
    expect(await store.get(id)).toMatchObject({ iteration: 1, phase: 'act', usage: { modelCalls: 1, inputTokens: 4 } });
    expect((await store.events(id)).map((e) => e.type)).toEqual(['goal.received', 'status.changed', 'thought']);
  });

  it('hands back the winner when another value was recorded first, changing nothing', async () => {
    const id = await runAt();
    await store.once(id, 'plan:1', z.object({ a: z.number() }), { a: 1 });
    const before = [await store.get(id), await store.events(id)];
    expect(await store.advance(id, plan('{"a":2}', [thought(1, 'lost')]))).toEqual({
      recorded: false,
      outcome: 'lost',
      winner: '{"a":1}',
    });
    expect([await store.get(id), await store.events(id)]).toEqual(before);
    // With the winner's value it completes the move (as a redelivery does), adding nothing of its own.
    expect(await store.advance(id, plan('{"a":1}', [thought(1, 'again')]))).toEqual({
      recorded: false,
      outcome: 'moved',
    });
    expect(await store.get(id)).toMatchObject({ phase: 'act', usage: { modelCalls: 0 } });
    expect(await store.events(id)).toEqual(before[1]);
  });

  it('records but does not move a run that is not where the stage found it', async () => {
    const id = await runAt(2, 'judge');
    expect(await store.advance(id, plan('{"a":1}'))).toEqual({
      recorded: true,
      outcome: 'elsewhere',
      iteration: 2,
      phase: 'judge',
    });
    expect(await store.get(id)).toMatchObject({ iteration: 2, phase: 'judge' });
  });

  it('does not move a run that has ended', async () => {
    const id = await runAt();
    const ended = await store.finish(id, { status: 'cancelled', iteration: 1, reason: 'stop' });
    expect(await store.advance(id, plan('{"a":1}'))).toMatchObject({ outcome: 'ended', status: 'cancelled' });
    expect(await store.get(id)).toMatchObject({ status: 'cancelled', phase: 'done', iteration: ended?.iteration });
  });

  it('ends the run with `finish`, returns the ended record, and appends status.changed after the stage’s events', async () => {
    const id = await runAt(1, 'judge');
    const verdict: NewRunEvent = { type: 'verdict', iteration: 1, decision: 'accept', reason: 'ok' };
    const out = await store.advance(id, {
      once: 'verdict:1',
      value: '{"next":"finish"}',
      events: [verdict],
      from: { iteration: 1, phases: ['act', 'judge'] },
      finish: { status: 'succeeded', iteration: 1, answer: 'three', reason: 'accepted' },
    });
    expect(out).toEqual({ recorded: true, outcome: 'finished', run: await store.get(id) });
    expect(out.outcome === 'finished' && out.run).toMatchObject({
      status: 'succeeded',
      phase: 'done',
      answer: 'three',
    });
    const events = await store.events(id);
    expect(events.slice(-2).map((e) => e.type)).toEqual(['verdict', 'status.changed']);
    expect(events.at(-1)).toMatchObject({ from: 'running', to: 'succeeded', reason: 'accepted' });
  });
});

describe('RunStore.seed', () => {
  const fork = GoalRequest.parse({ goal: 'again', forkOf: { runId: 'p', iteration: 3 } });
  const history: NewRunEvent[] = [
    { type: 'answer.proposed', iteration: 1, answer: 'first', at: 5 },
    { type: 'verdict', iteration: 2, decision: 'continue', reason: 'next', at: 6 },
  ];

  it('gives a new run its history once: ledger entries, events with their own times, its start', async () => {
    expect(await store.create('f1', fork)).toBe(true);
    const seed = { ledger: { 'plan:1': '{"a":1}', 'verdict:2': '{"b":2}' }, events: history, iteration: 3 };
    expect(await store.seed('f1', seed)).toBe(true);
    expect(await store.seed('f1', { ...seed, ledger: { 'plan:1': '{"changed":true}' } })).toBe(false);
    expect(await store.ledger('f1')).toEqual({ 'plan:1': '{"a":1}', 'verdict:2': '{"b":2}' });
    const events = await store.events('f1');
    expect(events.map((e) => [e.type, e.iteration, e.at])).toEqual([
      ['goal.received', 0, expect.any(Number)],
      ['status.changed', 0, expect.any(Number)],
      ['answer.proposed', 1, 5],
      ['verdict', 2, 6],
    ]);
    expect(await store.get('f1')).toMatchObject({ iteration: 3, phase: 'plan', forkOf: { runId: 'p', iteration: 3 } });
  });

  it('leaves a run alone that is gone, ended or past its first iteration', async () => {
    const seed = { ledger: { 'plan:1': '{}' }, events: [], iteration: 2 };
    expect(await store.seed('no-such-run', seed)).toBe(false);
    expect(await redis.exists(store.keys.once('no-such-run'))).toBe(0);
    expect(await store.create('f2', fork)).toBe(true);
    await store.finish('f2', { status: 'cancelled', iteration: 1, reason: 'stop' });
    expect(await store.seed('f2', seed)).toBe(false);
    expect(await store.ledger('f2')).toEqual({});
  });
});
