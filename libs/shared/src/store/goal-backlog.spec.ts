import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from '@jest/globals';
import { type Job, Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { fairPriority, GoalBacklog, MAX_JOB_PRIORITY } from './goal-backlog.js';

// Against the real Redis and a real BullMQ queue: the order intake gets is BullMQ's, which no fake would show.
const url = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const redis = new Redis(url, { maxRetriesPerRequest: null });
const prefix = `spec${randomBytes(4).toString('hex')}`;
const backlog = new GoalBacklog(redis, prefix);

afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});

describe('GoalBacklog', () => {
  it("hands intake another tenant's goal among the first, behind a flood enqueued before it", async () => {
    const queue = new Queue('goals', { connection: redis, prefix });
    const flood = await backlog.priorities('a', 200);
    await queue.addBulk(flood.map((priority, i) => ({ name: 'goal', data: { tenant: 'a', i }, opts: { priority } })));
    const [late] = await backlog.priorities('b', 1);
    await queue.add('goal', { tenant: 'b', i: 0 }, { priority: late });
    const order: string[] = [];
    const connection = new Redis(url, { maxRetriesPerRequest: null }); // a worker does not close a connection it is given
    const worker = new Worker(
      'goals',
      async (job: Job) => {
        order.push(`${job.data.tenant}${job.data.i}`);
        await backlog.takenIn(job.data.tenant);
      },
      { connection, prefix, concurrency: 1 },
    );
    await new Promise<void>((resolve) => worker.on('drained', () => resolve()));
    await worker.close();
    await connection.quit();
    await queue.close();
    expect(order).toHaveLength(201);
    expect(order.indexOf('b0')).toBeLessThan(2);
    // Every goal given back: the backlogs are empty again.
    expect([await redis.get(backlog.keys.goalBacklog('a')), await redis.get(backlog.keys.goalBacklog('b'))]).toEqual([
      '0',
      '0',
    ]);
  });

  it('numbers a tenant’s goals in order of enqueueing, divided by its weight', async () => {
    expect(await backlog.priorities('w', 3)).toEqual([1, 2, 3]);
    expect(await backlog.priorities('w', 2, 2)).toEqual([2, 3]); // places 4 and 5 at weight 2
    expect(fairPriority(10 ** 9, 1)).toBe(MAX_JOB_PRIORITY);
    expect(fairPriority(0, 1)).toBe(1);
  });

  it('never owes: taking in more goals than were counted leaves 0', async () => {
    await backlog.priorities('c', 1);
    await backlog.takenIn('c');
    await backlog.takenIn('c');
    expect(await redis.get(backlog.keys.goalBacklog('c'))).toBe('0');
    expect(await backlog.priorities('c', 1)).toEqual([1]);
  });
});
