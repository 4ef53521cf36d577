import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from '@jest/globals';
import { GoalRequest } from '@triad/contracts';
import { type Command, Redis } from 'ioredis';
import { z } from 'zod';
import { MemoryStore } from '../memory/memory-store.js';
import { ApprovalStore } from './approval-store.js';
import { GoalBacklog } from './goal-backlog.js';
import { luaCommand, type ScriptName } from './lua-scripts.js';
import { RunStore } from './run-store.js';
import { TenantSlots } from './tenant-slots.js';
import { TenantUsageStore } from './tenant-usage-store.js';
import { ownKeyPrefix, TriadKeys } from './triad-keys.js';

// On a Redis Cluster a script (or MULTI) may only touch keys of one slot. Keys hash on their first non-empty `{...}`
// (else on the whole key): two keys with the same hash tag are in one slot. Every script call and transaction the
// stores make, under a cluster prefix, is recorded and checked to name keys of one hash tag.
const redis = new Redis(process.env.REDIS_URL || 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
const prefix = `{spec${randomBytes(4).toString('hex')}}`;
const keys = new TriadKeys(prefix);

/** What Redis Cluster hashes a key on. */
function hashedOn(key: string): string {
  const open = key.indexOf('{');
  const close = open < 0 ? -1 : key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : key;
}

const scriptCalls: { sha: string; keys: string[]; args: string[] }[] = [];
const transactions: string[][] = [];
let inMulti: string[] | null = null;
const send = redis.sendCommand.bind(redis);
redis.sendCommand = ((command: Command, stream?: unknown) => {
  const args = command.args.map(String);
  if (command.name === 'evalsha' || command.name === 'eval') {
    const n = Number(args[1]);
    scriptCalls.push({ sha: args[0] as string, keys: args.slice(2, 2 + n), args: args.slice(2 + n) });
  } else if (command.name === 'multi') inMulti = [];
  else if (command.name === 'exec' && inMulti) {
    transactions.push(inMulti);
    inMulti = null;
  } else if (inMulti && args[0]) inMulti.push(args[0]);
  return send(command, stream as never);
}) as typeof redis.sendCommand;

afterAll(async () => {
  const left = await redis.keys(`${ownKeyPrefix(prefix)}:*`);
  if (left.length) await redis.del(...left);
  await redis.quit();
});

const request = GoalRequest.parse({ goal: 'g' });

describe('on a Redis Cluster (hash-tagged prefix)', () => {
  it("keeps Triad's own keys out of the prefix's slot: run keys hash on the run, tenant keys on the tenant", () => {
    expect(ownKeyPrefix('{triad}')).toBe('triad');
    expect(ownKeyPrefix('triad')).toBe('triad');
    const k = new TriadKeys('{triad}');
    expect(k.run('acme~r1')).toBe('triad:run:{acme~r1}');
    for (const key of [
      k.run('r1'),
      k.events('r1'),
      k.once('r1'),
      k.runExtraKeys('r1'),
      k.admitted('r1'),
      k.approval('r1', '1-0'),
    ]) {
      expect(hashedOn(key)).toBe('r1');
    }
    expect(hashedOn(k.inFlight('acme'))).toBe('acme');
    expect(hashedOn(k.tenantUsage('acme', '2026-01-01'))).toBe('acme');
    expect(hashedOn(k.index('default'))).toBe('triad:runs');
  });

  it('runs every script and transaction of the stores on keys of one slot each', async () => {
    const runs = new RunStore(redis, prefix);
    const approvals = new ApprovalStore(redis, prefix);
    const usage = new TenantUsageStore(redis, prefix);
    const slots = new TenantSlots(redis, prefix);
    const backlog = new GoalBacklog(redis, prefix);
    const now = Date.now();

    expect(await runs.create('r1', request)).toBe(true);
    expect(await runs.create('acme~r2', request, now, undefined, { queued: true })).toBe(true);
    expect((await runs.unqueue('acme~r2', [])).moved).toBe(true);
    await runs.createRejected('r3', { code: 'invalid_goal', message: 'bad' });
    expect((await runs.admit('r1', '1-0', 'tool')).admitted).toBe(true);
    await runs.once('r1', 'step:1-0', z.object({ ok: z.boolean() }), { ok: true });
    const moved = await runs.advance('r1', {
      once: 'plan:1',
      value: '{}',
      from: { iteration: 1, phases: ['plan'] },
      to: { phase: 'act' },
    });
    expect(moved.outcome).toBe('moved');
    expect(await runs.finish('acme~r2', { status: 'cancelled', iteration: 1, reason: 'test' })).not.toBeNull();
    expect(await runs.retire('acme~r2', 60_000)).toBe(true);
    expect(await runs.remove('r3')).toBe(true);

    const gate = {
      runId: 'r1',
      iteration: 1,
      stepId: '1-0',
      callId: 'c1',
      tool: 'post_webhook',
      risk: 'irreversible' as const,
      arguments: '{}',
      requestedBy: 'planner',
      requestedAt: now,
      expiresAt: now + 60_000,
    };
    await approvals.request(gate);
    expect(await approvals.decide('r1', '1-0', { status: 'approved', by: 'alice' })).toBe(true);

    const reserved = await usage.reserve(
      'acme',
      'res-1',
      { tokens: 10, costUsd: 0 },
      { maxTokensPerDay: 100 },
      now,
      now + 1_000,
    );
    expect(reserved.reserved).toBe(true);
    await usage.settle('acme', 'res-1', reserved.reserved ? reserved.day : '', { tokens: 5, costUsd: 0 });
    await usage.countRun('acme', now);
    expect((await slots.take('acme', 'acme~r4', 1, 5, now)).state).toBe('admitted');
    await slots.release('acme', 'acme~r4', 1, now);
    await backlog.priorities('acme', 1);
    await backlog.takenIn('acme');
    await luaCommand(redis, 'remember')(keys.runMemory('r1'), 'k', '{}', '10');

    const names: ScriptName[] = [
      'create-run',
      'unqueue',
      'admit',
      'once',
      'advance',
      'finish',
      'retire',
      'request-approval',
      'decide-approval',
      'reserve-spend',
      'settle-spend',
      'slot-take',
      'slot-release',
      'goal-taken',
      'remember',
    ];
    expect(new Set(scriptCalls.map((c) => c.sha)).size).toBe(names.length);
    for (const call of scriptCalls) expect(new Set(call.keys.map(hashedOn)).size).toBe(1);
    expect(transactions.length).toBeGreaterThanOrEqual(2);
    for (const keysOfMulti of transactions) expect(new Set(keysOfMulti.map(hashedOn)).size).toBe(1);
    // None of them lands in the queues' slot: BullMQ's keys hash on the prefix's tag.
    expect(scriptCalls.flatMap((c) => c.keys.map(hashedOn))).not.toContain(ownKeyPrefix(prefix));
  });

  it("runs the semantic memory's scripts on its tenant's slot, and the keys they build there too", async () => {
    scriptCalls.length = 0;
    const memory = new MemoryStore(redis, prefix);
    const now = Date.now();
    const record = {
      kind: 'fact' as const,
      text: 't',
      tags: [],
      source: { origin: 'judge' as const, runId: 'acme~r1', stepId: null },
      untrusted: false,
      createdAt: now,
      expiresAt: now + 60_000,
      model: 'm',
      vector: new Float32Array([1, 0, 0, 0]),
    };
    const { id } = await memory.add('acme', record, 1);
    await memory.add('acme', record, 1); // evicts the first
    await memory.add('acme', { ...record, expiresAt: now - 1 }, 10);
    expect(await memory.refresh('acme', 'm2', now + 120_000)).not.toBeNull();
    expect(await memory.delete('acme', [id, 'm2'])).toBe(1);
    await memory.deleteBySourceRun('acme', 'acme~r1');
    await memory.sweepBatch('acme', now);
    await memory.changes('acme', '0-0', 10);
    expect(scriptCalls.length).toBeGreaterThanOrEqual(8);
    const own = `${ownKeyPrefix(prefix)}:`;
    for (const call of scriptCalls) {
      const named = [...call.keys, ...call.args.filter((a) => a.startsWith(own))];
      expect(new Set(named.map(hashedOn))).toEqual(new Set(['acme']));
    }
  });
});
