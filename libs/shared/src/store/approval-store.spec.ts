import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { ApprovalStore, hashArguments } from './approval-store.js';
import { RunStore } from './run-store.js';

const redis = new Redis(process.env.REDIS_URL || 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
const prefix = `spec${randomBytes(4).toString('hex')}`;
const approvals = new ApprovalStore(redis, prefix);
const runs = new RunStore(redis, prefix);

afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});

const gate = (stepId: string, expiresAt = 1_800_000_000_000) => ({
  runId: 'run1',
  iteration: 1,
  stepId,
  callId: `c${stepId}`,
  tool: 'post_webhook',
  risk: 'irreversible' as const,
  arguments: '{"subject":"x"}',
  requestedBy: 'planner',
  requestedAt: 1_763_900_000_000,
  expiresAt,
});

describe('ApprovalStore', () => {
  it('opens a gate once, with the hash of the arguments and an event', async () => {
    const a = await approvals.request(gate('1-0'));
    const again = await approvals.request({ ...gate('1-0'), arguments: '{"subject":"other"}' });
    expect(again).toEqual(a);
    expect(a.id).toMatch(/^1-0\.[A-Za-z0-9_-]{22}$/);
    expect(await approvals.find('run1', a.id)).toEqual(a);
    expect(await approvals.find('run1', '1-0')).toBeNull();
    expect(a).toMatchObject({
      status: 'pending',
      argumentsHash: hashArguments('{"subject":"x"}'),
      expiresAt: 1_800_000_000_000,
    });
    const events = await runs.events('run1');
    expect(events.filter((e) => e.type === 'approval.requested')).toHaveLength(1);
  });

  it('lists pending gates by deadline and decides each once, whoever races', async () => {
    await approvals.request(gate('1-1', 1_700_000_000_000));
    expect((await approvals.listPending('default')).map((a) => a.stepId)).toEqual(['1-1', '1-0']);
    const results = await Promise.all([
      approvals.decide('run1', '1-1', { status: 'approved', by: 'alice', editedArguments: '{"subject":"y"}' }),
      approvals.decide('run1', '1-1', { status: 'rejected', by: 'bob', reason: 'no' }),
    ]);
    expect(results.filter(Boolean)).toHaveLength(1);
    const decided = await approvals.get('run1', '1-1');
    expect(decided?.status).toBe(results[0] ? 'approved' : 'rejected');
    expect((await approvals.listPending('default')).map((a) => a.stepId)).toEqual(['1-0']);
    const events = (await runs.events('run1')).filter((e) => e.type === 'approval.decided');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ approvalId: decided?.id, stepId: '1-1', by: decided?.decidedBy });
  });

  it('skips and removes index entries of decided or long-gone gates, and keeps one about to be opened', async () => {
    const key = approvals.keys.pendingApprovals('default');
    await redis.zadd(key, 1_700_000_000_000, 'run1/1-1'); // decided above; its removal from the index was lost
    await redis.zadd(key, 1_000, 'gone/1-0'); // past its deadline, its run expired
    await redis.zadd(key, 9_000_000_000_000, 'soon/1-0'); // indexed, its gate not opened yet
    expect((await approvals.listPending('default')).map((a) => a.stepId)).toEqual(['1-0']);
    expect(await redis.zrange(key, '0', '-1')).toEqual(['run1/1-0', 'soon/1-0']);
  });

  it('knows nothing of a gate that was never opened', async () => {
    expect(await approvals.get('run1', '9-9')).toBeNull();
    expect(await approvals.decide('run1', '9-9', { status: 'approved', by: 'x' })).toBe(false);
  });
});
