import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from '@jest/globals';
import { QUEUES } from '@triad/contracts';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { ResultsQueues } from './results-queues.js';

// Against the real Redis and BullMQ: what a producer's results queue leaves behind is read back key by key.
const redis = new Redis(process.env.REDIS_URL || 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
const prefix = `spec${randomBytes(4).toString('hex')}`;
const shared = new Queue(QUEUES.results, { connection: redis, prefix });
const results = new ResultsQueues(shared, redis, prefix, (name) => new Queue(name, { connection: redis, prefix }));
const registry = `${prefix}:results:queues`;

afterAll(async () => {
  await results.close();
  await shared.close();
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});

describe('ResultsQueues', () => {
  it('gives the shared queue to a run without resultsQueue, registering nothing', async () => {
    expect(await results.queueFor('acme', undefined)).toBe(shared);
    expect(await redis.exists(registry)).toBe(0);
  });

  it("registers a producer's queue under the run's tenant when a result goes there", async () => {
    const before = Date.now();
    const q = await results.queueFor('acme', 'billing');
    expect(q.name).toBe('results.acme.billing');
    expect(await results.queueFor('acme', 'billing')).toBe(q); // kept open for the next result
    expect(Number(await redis.zscore(registry, 'results.acme.billing'))).toBeGreaterThanOrEqual(before);
  });

  it('forgets an idle, empty queue and every key BullMQ kept of it', async () => {
    const q = await results.queueFor('default', 'idle');
    await q.add('run.finished', {}, { jobId: 'finished-a' });
    await (await q.getJob('finished-a'))?.remove();
    expect(await results.forgetIdle('results.default.idle', Date.now() - 60_000)).toBe(false); // published just now
    expect(await results.forgetIdle('results.default.idle', Date.now() + 1)).toBe(true);
    expect(await redis.keys(`${prefix}:results.default.idle*`)).toEqual([]);
    expect(await redis.zscore(registry, 'results.default.idle')).toBeNull();
  });

  it('keeps a queue that still holds a job, and a meta hash with a consumer setting of its own', async () => {
    const q = await results.queueFor('default', 'busy');
    await q.add('run.finished', {}, { jobId: 'finished-b' });
    expect(await results.forgetIdle('results.default.busy', Date.now() + 1)).toBe(false);
    await (await q.getJob('finished-b'))?.remove();
    await q.setGlobalConcurrency(2);
    expect(await results.forgetIdle('results.default.busy', Date.now() + 1)).toBe(true);
    expect(await q.getGlobalConcurrency()).toBe(2);
  });
});
