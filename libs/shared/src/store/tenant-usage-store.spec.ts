import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { SpendCappedModel } from '../reasoning/spend-capped-model.js';
import { secondsToNextUtcDay, TenantUsageStore, USAGE_TTL_SECONDS, utcDay } from './tenant-usage-store.js';

// Against the real Redis: reservations are Lua scripts, and racing them from separate connections is the point.
const url = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const redis = new Redis(url, { maxRetriesPerRequest: null });
const prefix = `spec${randomBytes(4).toString('hex')}`;
const store = new TenantUsageStore(redis, prefix);
const racers = Array.from(
  { length: 4 },
  () => new TenantUsageStore(new Redis(url, { maxRetriesPerRequest: null }), prefix),
);

afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  await Promise.all([redis, ...racers.map((r) => (r as unknown as { redis: Redis }).redis)].map((r) => r.quit()));
});

const NOW = Date.UTC(2030, 0, 15, 12, 0, 0);
const LATER = NOW + 60_000;
let n = 0;
const tenant = () => `t${++n}`;
const day = (t: string, at = NOW) => redis.hgetall(store.keys.tenantUsage(t, utcDay(at)));

describe('TenantUsageStore', () => {
  it('reserves, refuses what would cross a cap, and settles what the call used', async () => {
    const t = tenant();
    const caps = { maxCostUsdPerDay: 0.01 };
    expect(await store.reserve(t, 'r1', { tokens: 100, costUsd: 0.006 }, caps, NOW, LATER)).toEqual({
      reserved: true,
      day: '2030-01-15',
      held: false,
    });
    // 0.006 held + 0.006 would cross 0.01: refused, naming the tenant's limit and the figures.
    const refused = await store.reserve(t, 'r2', { tokens: 100, costUsd: 0.006 }, caps, NOW, LATER);
    expect(refused).toEqual({
      reserved: false,
      limit: 'maxCostUsdPerDay',
      message: `tenant ${t}: maxCostUsdPerDay $0.01 reached ($0.00 spent today, $0.006 held by calls in flight, this model call may use up to $0.006)`,
      exhausted: false,
    });
    // Not exhausted: the refusal was for what is in flight, which may settle lower.
    expect(await store.refusal(t, caps, NOW)).toBeNull();
    expect(await store.settle(t, 'r1', '2030-01-15', { tokens: 40, costUsd: 0.002 })).toBe(true);
    expect(await day(t)).toMatchObject({
      tokens: '40',
      costNano: '2000000',
      reservedTokens: '0',
      reservedCostNano: '0',
      modelCalls: '1',
    });
    expect(await store.reserve(t, 'r2', { tokens: 100, costUsd: 0.006 }, caps, NOW, LATER)).toMatchObject({
      reserved: true,
    });
    await store.settle(t, 'r2', '2030-01-15', { tokens: 100, costUsd: 0.006 });
    // 0.008 spent: a call that may cost 0.006 can never fit today, so the day is exhausted and new goals refused.
    const last = await store.reserve(t, 'r3', { tokens: 1, costUsd: 0.006 }, caps, NOW, LATER);
    expect(last).toMatchObject({ reserved: false, limit: 'maxCostUsdPerDay', exhausted: true });
    expect(await store.refusal(t, caps, NOW)).toBe(
      `tenant ${t}: maxCostUsdPerDay 0.01 reached ($0.008 spent today); new goals are refused until 00:00 UTC`,
    );
    expect(await store.refusal(t, caps, NOW + 24 * 3600_000)).toBeNull(); // the next UTC day starts afresh
    const ttl = await redis.ttl(store.keys.tenantUsage(t, '2030-01-15'));
    expect(ttl).toBeGreaterThan(USAGE_TTL_SECONDS - 60);
    expect(ttl).toBeLessThanOrEqual(USAGE_TTL_SECONDS);
  });

  it('caps tokens the same way', async () => {
    const t = tenant();
    const caps = { maxTokensPerDay: 1000 };
    expect(await store.reserve(t, 'a', { tokens: 600, costUsd: 0 }, caps, NOW, LATER)).toMatchObject({
      reserved: true,
    });
    const refused = await store.reserve(t, 'b', { tokens: 600, costUsd: 0 }, caps, NOW, LATER);
    expect(refused).toMatchObject({ reserved: false, limit: 'maxTokensPerDay' });
    expect(refused.reserved === false && refused.message).toBe(
      `tenant ${t}: maxTokensPerDay 1000 reached (0 tokens spent today, 600 tokens held by calls in flight, this model call may use up to 600 tokens)`,
    );
    await store.settle(t, 'a', utcDay(NOW), { tokens: 1000, costUsd: 0 });
    expect(await store.refusal(t, caps, NOW)).toMatch(/maxTokensPerDay 1000 reached \(1000 tokens spent today\)/);
  });

  it('does not reserve a redelivered call twice, and releases the reservation of a call that never settled', async () => {
    const t = tenant();
    const caps = { maxTokensPerDay: 1000 };
    expect(await store.reserve(t, 'run~x/plan:1#0', { tokens: 700, costUsd: 0 }, caps, NOW, LATER)).toMatchObject({
      reserved: true,
      held: false,
    });
    // The same stage delivered again (its process crashed): it holds the reservation, it does not take another.
    expect(await store.reserve(t, 'run~x/plan:1#0', { tokens: 700, costUsd: 0 }, caps, NOW, LATER)).toMatchObject({
      reserved: true,
      held: true,
    });
    expect((await day(t)).reservedTokens).toBe('700');
    // Nobody settles it; before its deadline it still holds the tenant's tokens...
    expect(await store.reserve(t, 'other', { tokens: 700, costUsd: 0 }, caps, LATER - 1, LATER + 1)).toMatchObject({
      reserved: false,
    });
    // ...after it, the next reservation releases it first.
    expect(await store.reserve(t, 'other', { tokens: 700, costUsd: 0 }, caps, LATER + 1, LATER + 60_000)).toMatchObject(
      {
        reserved: true,
      },
    );
    expect((await day(t)).reservedTokens).toBe('700');
    // A late settle of the released reservation adds its usage (the call happened) and releases nothing twice.
    expect(await store.settle(t, 'run~x/plan:1#0', utcDay(NOW), { tokens: 5, costUsd: 0 })).toBe(false);
    expect(await day(t)).toMatchObject({ reservedTokens: '700', tokens: '5' });
    expect(await redis.zcard(store.keys.tenantReservations(t))).toBe(1);
  });

  it('holds the cap with calls racing from separate connections', async () => {
    const t = tenant();
    const caps = { maxCostUsdPerDay: 0.05 };
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        racers[i % racers.length]?.reserve(t, `c${i}`, { tokens: 10, costUsd: 0.003 }, caps, NOW, LATER),
      ),
    );
    expect(results.filter((r) => r?.reserved)).toHaveLength(16); // 16 x 0.003 = 0.048 <= 0.05 < 17 x 0.003
    expect((await day(t)).reservedCostNano).toBe('48000000');
  });

  it('counts runs and reports days, today first', async () => {
    const t = tenant();
    await store.countRun(t, NOW);
    await store.countRun(t, NOW);
    await store.countRun(t, NOW - 24 * 3600_000);
    await store.settle(t, 'none', utcDay(NOW), { tokens: 12, costUsd: 0.0012345 });
    expect(await store.usage(t, 3, NOW)).toEqual([
      { day: '2030-01-15', costUsd: 0.0012345, tokens: 12, runs: 2, modelCalls: 1 },
      { day: '2030-01-14', costUsd: 0, tokens: 0, runs: 1, modelCalls: 0 },
      { day: '2030-01-13', costUsd: 0, tokens: 0, runs: 0, modelCalls: 0 },
    ]);
    expect(secondsToNextUtcDay(NOW)).toBe(12 * 3600);
  });

  it('has the model reserve an upper bound before the call and settle the reply after', async () => {
    const t = tenant();
    const config = {
      tenantLimits: { [t]: { maxTokensPerDay: 100_000, weight: 1 } },
      model: { prices: {}, maxOutputTokens: 50, timeoutMs: 1000, maxRetries: 0 } as never,
    };
    const seen: unknown[] = [];
    const inner = {
      chat: async (req: unknown) => {
        seen.push(req);
        // While the call runs, its upper bound is held: at least its bytes, plus its most output tokens.
        seen.push((await redis.hgetall(store.keys.tenantUsage(t, utcDay(Date.now())))).reservedTokens);
        return { model: 'm', content: 'ok', toolCalls: [], finishReason: 'stop', inputTokens: 7, outputTokens: 3 };
      },
    };
    const model = new SpendCappedModel(inner, store, config);
    const { withSpendScope } = await import('../reasoning/spend-capped-model.js');
    const req = { model: 'm', messages: [{ role: 'user' as const, content: 'héllo' }] };
    // Outside a stage there is nothing to charge; inside, the call is charged to the run's tenant.
    await model.chat(req);
    expect(seen[0]).toEqual(req);
    await withSpendScope({ runId: `${t}~r`, stage: 'plan', iteration: 1 }, () => model.chat(req));
    expect(seen[2]).toEqual({ ...req, maxOutputTokens: 50 });
    const bytes = Buffer.byteLength(JSON.stringify([req.messages, [], null]));
    expect(seen[3]).toBe(String(bytes + 50));
    expect(await store.usage(t, 1)).toEqual([expect.objectContaining({ tokens: 10, modelCalls: 1 })]);
    expect((await day(t, Date.now())).reservedTokens).toBe('0');
  });
});
