import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Embedder, loadConfig, RedisSemanticMemory, type TriadConfig } from '@triad/shared';
import { deleteKeys, type ScriptedModelServer, startScriptedModelServer } from '@triad/testing';
import { Redis } from 'ioredis';
import { memoryRetentionSweep } from './periodic-sweeps.js';

// Real Redis and the scripted model's embeddings: the sweep of two planners at once removes expired memories once.
const redis = new Redis(process.env.REDIS_URL || 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
const prefix = `spec${randomBytes(4).toString('hex')}`;
let model: ScriptedModelServer;
let config: TriadConfig;

beforeAll(async () => {
  model = await startScriptedModelServer({ scenario: { scripts: [] } });
  config = loadConfig({ TRIAD_PREFIX: prefix, OPENAI_BASE_URL: `${model.url}/v1` });
});

afterAll(async () => {
  await deleteKeys(redis, prefix);
  await redis.quit();
  await model.close();
});

describe('memoryRetentionSweep', () => {
  it('removes the expired memories of every tenant, on one planner at a time', async () => {
    const memory = new RedisSemanticMemory(redis, config, new Embedder(config), { logger: { warn() {}, log() {} } });
    const source = { origin: 'api' as const, runId: null, stepId: null };
    const entry = (tenant: string, text: string, ttlMs?: number) => ({
      tenant,
      text,
      kind: 'fact' as const,
      tags: [],
      source,
      untrusted: false,
      ttlMs,
    });
    await memory.writeMany([
      entry('one', 'Expires soon: the cache is warm', 60_000),
      entry('two', 'Expires soon too: the queue is long', 60_000),
      entry('two', 'Kept for the whole retention: the API is versioned'),
    ]);
    const inTwoMinutes = () => Date.now() + 120_000;
    const planners = [1, 2].map(() => memoryRetentionSweep(redis, config, memory, 60_000, inTwoMinutes));
    const removed = await Promise.all(planners.map((sweep) => sweep()));
    expect(removed.sort()).toEqual([0, 2]);
    expect(await memory.store.count('one')).toBe(0);
    expect((await memory.list('two', { limit: 10 })).entries.map((e) => e.text)).toEqual([
      'Kept for the whole retention: the API is versioned',
    ]);
  });
});
