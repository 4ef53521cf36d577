import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from '@jest/globals';
import { GoalRequest, storeRunId } from '@triad/contracts';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { RetentionSweep } from '../runs/retention-sweep.js';
import { ApprovalStore } from './approval-store.js';
import { RunStore } from './run-store.js';

// Against the real Redis: expiry is set in Lua, and what a run leaves behind is read back key by key.
const redis = new Redis(process.env.REDIS_URL || 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
const prefix = `spec${randomBytes(4).toString('hex')}`;
const runs = new RunStore(redis, prefix);
const approvals = new ApprovalStore(redis, prefix);
const request = GoalRequest.parse({ goal: 'count to three' });
const HOUR = 3_600_000;

afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});

/** A run with a record, events, a ledger entry, an admitted tool step, memory and an approval gate. */
async function fullRun(id: string, opts: { end?: boolean; createdAt?: number } = {}): Promise<string[]> {
  await runs.create(id, request, opts.createdAt ?? Date.now());
  await runs.once(id, 'plan:1', z.object({ n: z.number() }), { n: 1 });
  await runs.admit(id, '1-0', 'tool');
  await redis.hset(runs.keys.runMemory(id), 'k', 'v');
  await approvals.request({
    runId: id,
    iteration: 1,
    stepId: '1-0',
    callId: 'c1',
    tool: 'post_webhook',
    risk: 'irreversible',
    arguments: '{}',
    requestedBy: 'planner',
    requestedAt: Date.now(),
    expiresAt: Date.now() + HOUR,
  });
  if (opts.end) await runs.finish(id, { status: 'succeeded', iteration: 1, answer: '3', reason: 'done' });
  return [...runs.keys.runKeys(id).filter((k) => k !== runs.keys.runExtraKeys(id)), runs.keys.approval(id, '1-0')];
}

const ttls = (keys: string[]) => Promise.all(keys.map((k) => redis.pttl(k)));

describe('run retention', () => {
  it('leaves a running run alone, and gives every key of an ended run the retention', async () => {
    const keys = await fullRun('ret-running');
    expect(await runs.retire('ret-running', HOUR)).toBe(false);
    expect(await ttls(keys)).toEqual(keys.map(() => -1));

    const ended = await fullRun('ret-ended', { end: true });
    expect(await runs.retire('ret-ended', HOUR)).toBe(true);
    for (const ttl of await ttls([...ended, runs.keys.runExtraKeys('ret-ended')])) {
      expect(ttl).toBeGreaterThan(HOUR - 60_000);
      expect(ttl).toBeLessThanOrEqual(HOUR);
    }
  });

  it('lets a late write (a racing duplicate stage) expire with the run instead of staying for good', async () => {
    await runs.create('ret-late', request);
    await runs.finish('ret-late', { status: 'cancelled', iteration: 1, reason: 'stop' });
    await runs.retire('ret-late', HOUR);
    // The ledger did not exist when the run was retired: the late write creates it, with the run's expiry.
    await runs.once('ret-late', 'step:1-0', z.object({ ok: z.boolean() }), { ok: true });
    expect(await redis.pttl(runs.keys.once('ret-late'))).toBeGreaterThan(HOUR - 60_000);
  });

  it('deletes an ended run at once, index entry and all, and refuses a running one', async () => {
    const id = storeRunId('acme', 'ret-del');
    const keys = await fullRun(id, { end: true });
    expect(await runs.list('acme')).toContain(id);
    expect(await runs.remove(id)).toBe(true);
    expect(await redis.exists(...keys, runs.keys.runExtraKeys(id))).toBe(0);
    expect(await runs.list('acme')).not.toContain(id);

    const running = storeRunId('acme', 'ret-del-running');
    await fullRun(running);
    expect(await runs.remove(running)).toBe(false);
    expect(await runs.get(running)).not.toBeNull();
  });

  it('sweeps index and pending-approval entries of runs that are gone, and only those', async () => {
    const old = Date.now() - 2 * HOUR;
    const gone = storeRunId('sweep', 'gone');
    const kept = storeRunId('sweep', 'kept');
    const young = storeRunId('sweep', 'young');
    await fullRun(gone, { end: true, createdAt: old });
    await fullRun(kept, { end: true, createdAt: old });
    await fullRun(young, { end: true });
    // `gone` expired, `young` too but is newer than the retention (it cannot have expired: never looked at).
    await runs.retire(gone, 0);
    await runs.retire(young, 0);
    expect((await approvals.listPending('sweep', { limit: 10 })).length).toBe(1);
    expect(await redis.zcard(runs.keys.pendingApprovals('sweep'))).toBe(3);

    const sweep = new RetentionSweep(redis, runs, approvals, HOUR);
    const other = new RetentionSweep(redis, runs, approvals, HOUR);
    const [a, b] = await Promise.all([sweep.sweep(), other.sweep()]);
    expect(a === 0 || b === 0).toBe(true); // one replica at a time
    expect(await runs.list('sweep')).toEqual([young, kept]);
    expect(await redis.zrange(runs.keys.pendingApprovals('sweep'), '0', '-1')).toEqual([`${kept}/1-0`]);
  });
});
