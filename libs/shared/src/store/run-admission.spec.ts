import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from '@jest/globals';
import { GoalRequest, type GoalRequestInput } from '@triad/contracts';
import { Redis } from 'ioredis';
import { RunStore } from './run-store.js';

// Against the real Redis: admission is a Lua script, and racing it from separate connections is the point.
const url = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const redis = new Redis(url, { maxRetriesPerRequest: null });
const prefix = `spec${randomBytes(4).toString('hex')}`;
const store = new RunStore(redis, prefix);
const racers = Array.from({ length: 4 }, () => new Redis(url, { maxRetriesPerRequest: null }));

afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  await Promise.all([redis, ...racers].map((r) => r.quit()));
});

let n = 0;
async function runWith(budget: GoalRequestInput['budget'], createdAt = Date.now()): Promise<string> {
  const id = `adm-${++n}`;
  await store.create(id, GoalRequest.parse({ goal: 'admit', budget }), createdAt);
  return id;
}
const toolCalls = async (id: string) => (await store.get(id))?.usage.toolCalls;

describe('RunStore.admit', () => {
  it('reserves one tool call per step, and a step admitted twice is not charged twice', async () => {
    const id = await runWith({ maxToolCalls: 2 });
    expect(await store.admit(id, '1-0', 'tool')).toEqual({ admitted: true });
    expect(await store.admit(id, '1-0', 'tool')).toEqual({ admitted: true });
    expect(await toolCalls(id)).toBe(1);
    expect(await store.admit(id, '1-1', 'tool')).toEqual({ admitted: true });
    // The budget is used up for new steps, not for the ones already holding a reservation (redeliveries).
    expect(await store.admit(id, '1-2', 'tool')).toEqual({
      admitted: false,
      limit: 'maxToolCalls',
      message: 'maxToolCalls: 2 tool calls of 2',
    });
    expect(await store.admit(id, '1-1', 'tool')).toEqual({ admitted: true });
    expect(await toolCalls(id)).toBe(2);
  });

  it('never admits more tool calls than the limit, whatever the number of racing connections', async () => {
    for (const max of [0, 1, 3, 17]) {
      const id = await runWith({ maxToolCalls: max });
      const stores = racers.map((r) => new RunStore(r, prefix));
      // 40 steps, each tried by every connection at once: 160 admissions racing for `max` reservations.
      const tries = Array.from({ length: 40 }, (_, i) => stores.map((s) => s.admit(id, `1-${i}`, 'tool'))).flat();
      const results = await Promise.all(tries);
      const admittedSteps = new Set(results.flatMap((r, k) => (r.admitted ? [Math.floor(k / stores.length)] : [])));
      expect(admittedSteps.size).toBe(max);
      expect(await toolCalls(id)).toBe(max);
      expect(await redis.hlen(store.keys.admitted(id))).toBe(max);
    }
  });

  it('only checks, reserving nothing, when asked not to reserve', async () => {
    const id = await runWith({ maxToolCalls: 1 });
    expect(await store.admit(id, '1-0', 'tool', { reserve: false })).toEqual({ admitted: true });
    expect(await store.admit(id, '1-1', 'tool', { reserve: false })).toEqual({ admitted: true });
    expect(await toolCalls(id)).toBe(0);
    expect(await store.admit(id, '1-1', 'tool')).toEqual({ admitted: true });
    expect(await store.admit(id, '1-0', 'tool', { reserve: false })).toMatchObject({ limit: 'maxToolCalls' });
  });

  it('refuses a model call once the recorded tokens or cost reach the limit, and reserves no tool call', async () => {
    const id = await runWith({ maxTokens: 100, maxCostUsd: 0.5, maxToolCalls: 0 });
    expect(await store.admit(id, 'plan:1', 'model')).toEqual({ admitted: true });
    expect(await toolCalls(id)).toBe(0);
    await store.once(id, 'plan:1', GoalRequest.pick({ goal: true }), { goal: 'x' }, [], {
      inputTokens: 60,
      outputTokens: 40,
    });
    expect(await store.admit(id, 'plan:2', 'model')).toEqual({
      admitted: false,
      limit: 'maxTokens',
      message: 'maxTokens: 100 tokens used of 100',
    });

    const costly = await runWith({ maxCostUsd: 0.5 });
    await store.once(costly, 'plan:1', GoalRequest.pick({ goal: true }), { goal: 'x' }, [], { costUsd: 0.5 });
    expect(await store.admit(costly, 'plan:2', 'model')).toEqual({
      admitted: false,
      limit: 'maxCostUsd',
      message: 'maxCostUsd: $0.500000 spent of $0.5',
    });
    // Every limit that stops a model call stops a tool call too.
    expect(await store.admit(costly, '2-0', 'tool')).toMatchObject({ admitted: false, limit: 'maxCostUsd' });
  });

  it('refuses any step of a run past its timeout, or of a run that has ended', async () => {
    const old = await runWith({ timeoutMs: 1_000 }, Date.now() - 5_000);
    expect(await store.admit(old, 'plan:1', 'model')).toMatchObject({ admitted: false, limit: 'timeoutMs' });
    const ended = await runWith({});
    await store.finish(ended, { status: 'cancelled', iteration: 1, reason: 'test' });
    expect(await store.admit(ended, '1-0', 'tool')).toEqual({ admitted: false, ended: 'cancelled' });
    expect(await store.admit('no-such-run', '1-0', 'tool')).toEqual({ admitted: false, ended: 'gone' });
  });

  it('checks a model call again on every delivery of its step (a model call holds no reservation)', async () => {
    const id = await runWith({ timeoutMs: 60_000 });
    const now = Date.now();
    expect(await store.admit(id, 'plan:1', 'model', { now })).toEqual({ admitted: true });
    // The same plan step delivered again after a 429 pause, once the run has outlived its timeout.
    expect(await store.admit(id, 'plan:1', 'model', { now: now + 61_000 })).toMatchObject({
      admitted: false,
      limit: 'timeoutMs',
    });
    // A tool step that already holds its reservation keeps it: the ledger makes its repeat the same call.
    expect(await store.admit(id, '1-0', 'tool', { now })).toEqual({ admitted: true });
    expect(await store.admit(id, '1-0', 'tool', { now: now + 61_000 })).toEqual({ admitted: true });
  });
});

describe('model admission, checked in TypeScript on the record a stage reads', () => {
  // Each row: budget, usage written on the record, run age. The TypeScript check and the Lua script must agree.
  const ROWS: [GoalRequestInput['budget'], Record<string, string>, number][] = [
    [{}, {}, 0],
    [{ maxTokens: 10 }, { 'usage.inputTokens': '6', 'usage.outputTokens': '4' }, 0],
    [{ maxTokens: 10 }, { 'usage.inputTokens': '6', 'usage.outputTokens': '3' }, 0],
    [{ maxCostUsd: 0.5 }, { 'usage.costUsd': '0.5' }, 0],
    [{ maxCostUsd: 0.5 }, { 'usage.costUsd': '0.4999' }, 0],
    [{ timeoutMs: 1_000 }, {}, 1_000],
    [{ timeoutMs: 1_000 }, {}, 999],
    [{ maxToolCalls: 1 }, { 'usage.toolCalls': '1' }, 0], // tool calls do not stop a model call
  ];
  it.each(ROWS)('budget %j, usage %j, age %d ms', async (budget, usage, age) => {
    const now = Date.now();
    const id = await runWith(budget, now - age);
    if (Object.keys(usage).length) await redis.hset(store.keys.run(id), usage);
    const checked = (await store.read(id, { admitModel: true, now })).admission;
    expect(checked).toEqual(await store.admit(id, 'plan:1', 'model', { now }));
  });

  it('agrees on an ended run, and the script reads a budget from the request of a run created without its own field', async () => {
    const id = await runWith({ maxTokens: 5 });
    await redis.hdel(store.keys.run(id), 'budget');
    await redis.hset(store.keys.run(id), 'usage.outputTokens', '5');
    const refused = { admitted: false, limit: 'maxTokens', message: 'maxTokens: 5 tokens used of 5' };
    expect(await store.admit(id, 'plan:1', 'model')).toEqual(refused);
    expect((await store.read(id, { admitModel: true })).admission).toEqual(refused);
    await store.finish(id, { status: 'cancelled', iteration: 1, reason: 'test' });
    expect((await store.read(id, { admitModel: true })).admission).toEqual({ admitted: false, ended: 'cancelled' });
    expect(await store.admit(id, 'plan:1', 'model')).toEqual({ admitted: false, ended: 'cancelled' });
  });
});
