import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { TenantSlots } from './tenant-slots.js';

// Against the real Redis: the slots live in Lua, which no fake would exercise.
const redis = new Redis(process.env.REDIS_URL || 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
const prefix = `spec${randomBytes(4).toString('hex')}`;
const slots = new TenantSlots(redis, prefix);

afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});

describe('TenantSlots', () => {
  it('admits up to the cap, then makes runs wait; a run taken twice holds one slot', async () => {
    const t = 'admit';
    expect(await slots.take(t, 'a~1', 2, 5)).toEqual({ state: 'admitted', admitted: ['a~1'] });
    expect(await slots.take(t, 'a~1', 2, 5)).toEqual({ state: 'held', admitted: [] });
    expect(await slots.take(t, 'a~2', 2, 5)).toEqual({ state: 'admitted', admitted: ['a~2'] });
    expect(await slots.take(t, 'a~3', 2, 5)).toEqual({ state: 'waiting', admitted: [] });
    expect(await slots.take(t, 'a~3', 2, 5)).toEqual({ state: 'waiting', admitted: [] });
    expect((await slots.inFlight(t)).sort()).toEqual(['a~1', 'a~2']);
    expect(await slots.waiting(t)).toEqual(['a~3']);
    expect(await slots.tenants()).toContain(t);
  });

  it('releases a slot once, to the next waiting run by priority, then arrival', async () => {
    const t = 'order';
    await slots.take(t, 'r1', 1, 5);
    await slots.take(t, 'low', 1, 9);
    await slots.take(t, 'normal-1', 1, 5);
    await slots.take(t, 'normal-2', 1, 5);
    await slots.take(t, 'urgent', 1, 1);
    expect(await slots.waiting(t)).toEqual(['urgent', 'normal-1', 'normal-2', 'low']);
    expect(await slots.release(t, 'r1', 1)).toEqual(['urgent']);
    // Released twice frees one slot: the second release finds nothing to remove and no slot free.
    expect(await slots.release(t, 'r1', 1)).toEqual([]);
    expect(await slots.inFlight(t)).toEqual(['urgent']);
    expect(await slots.release(t, 'urgent', 1)).toEqual(['normal-1']);
    expect(await slots.release(t, 'normal-1', 1)).toEqual(['normal-2']);
    expect(await slots.release(t, 'normal-2', 1)).toEqual(['low']);
    expect(await slots.release(t, 'low', 1)).toEqual([]);
    expect(await slots.inFlight(t)).toEqual([]);
  });

  it('a waiting run released (cancelled) leaves the wait and takes no slot', async () => {
    const t = 'cancel';
    await slots.take(t, 'x1', 1, 5);
    await slots.take(t, 'x2', 1, 5);
    await slots.take(t, 'x3', 1, 5);
    expect(await slots.release(t, 'x2', 1)).toEqual([]);
    expect(await slots.waiting(t)).toEqual(['x3']);
    expect(await slots.release(t, 'x1', 1)).toEqual(['x3']);
  });

  it('a new run never passes a waiting one of the same priority, and a grown cap admits from the head', async () => {
    const t = 'grow';
    await slots.take(t, 'g1', 1, 5);
    await slots.take(t, 'g2', 1, 5);
    // The cap grew to 3: the new run joins behind g2, then both take the two free slots.
    expect(await slots.take(t, 'g3', 3, 5)).toEqual({ state: 'admitted', admitted: ['g2', 'g3'] });
    await slots.take(t, 'g4', 3, 5);
    await slots.take(t, 'g5', 3, 5);
    expect(await slots.fill(t, 4)).toEqual(['g4']);
    expect(await slots.fill(t, 4)).toEqual([]);
    expect(await slots.waiting(t)).toEqual(['g5']);
  });

  it('many concurrent takes never admit more than the cap', async () => {
    const t = 'race';
    const states = await Promise.all(Array.from({ length: 50 }, (_, i) => slots.take(t, `c${i}`, 3, 5)));
    expect(states.filter((s) => s.state === 'admitted')).toHaveLength(3);
    expect(await slots.inFlight(t)).toHaveLength(3);
    expect(await slots.waiting(t)).toHaveLength(47);
  });
});
