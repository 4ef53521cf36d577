import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from '@jest/globals';
import { TriadKeys } from '@triad/shared';
import { Redis } from 'ioredis';
import { ToolFailure } from '../tool.js';
import {
  MAX_ENTRIES_PER_SCOPE,
  MAX_MEMORY_VALUE_BYTES,
  MAX_RECALLED_ENTRIES,
  RedisToolMemory,
} from './redis-tool-memory.js';

// Against the real Redis: the full-scope check lives in Lua.
const redis = new Redis(process.env.REDIS_URL || 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
const prefix = `spec${randomBytes(4).toString('hex')}`;

afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});

describe('RedisToolMemory', () => {
  it('keeps run scope per run, in a hash under the run hash tag, and global scope shared', async () => {
    const run1 = new RedisToolMemory(redis, new TriadKeys(prefix), 'run-1');
    const run2 = new RedisToolMemory(redis, new TriadKeys(prefix), 'run-2');
    await run1.remember('run', 'city', 'Porto');
    await run1.remember('global', 'lesson', 'check units');
    expect(await run2.recall('run', 'city')).toEqual([]);
    expect(await run2.recall('global', 'lesson')).toEqual([
      { key: 'lesson', value: 'check units', at: expect.any(Number) },
    ]);
    expect(await redis.type(`${prefix}:run:{run-1}:memory`)).toBe('hash');
    expect(await redis.hkeys(`${prefix}:memory`)).toEqual(['lesson']);
  });

  it('replaces a value under the same key and lists newest first', async () => {
    const memory = new RedisToolMemory(redis, new TriadKeys(prefix), 'run-order');
    await memory.remember('run', 'a', 'first');
    await new Promise((resolve) => setTimeout(resolve, 5));
    await memory.remember('run', 'b', 'second');
    await new Promise((resolve) => setTimeout(resolve, 5));
    await memory.remember('run', 'a', 'third');
    expect((await memory.recall('run', null)).map((e) => [e.key, e.value])).toEqual([
      ['a', 'third'],
      ['b', 'second'],
    ]);
  });

  it('stores a value of exactly 8 KB of multi-byte text and refuses one byte more', async () => {
    const memory = new RedisToolMemory(redis, new TriadKeys(prefix), 'run-size');
    const exact = 'é'.repeat(MAX_MEMORY_VALUE_BYTES / 2);
    await memory.remember('run', 'exact', exact);
    expect((await memory.recall('run', 'exact'))[0].value).toBe(exact);
    await expect(memory.remember('run', 'over', `${exact}a`)).rejects.toThrow(
      `The value is ${MAX_MEMORY_VALUE_BYTES + 1} bytes`,
    );
    await expect(memory.remember('run', 'k'.repeat(129), 'v')).rejects.toBeInstanceOf(ToolFailure);
  });

  it(`returns at most ${MAX_RECALLED_ENTRIES} entries and refuses new keys beyond ${MAX_ENTRIES_PER_SCOPE}`, async () => {
    const memory = new RedisToolMemory(redis, new TriadKeys(prefix), 'run-full');
    const key = `${prefix}:run:{run-full}:memory`;
    const fields = Array.from({ length: MAX_ENTRIES_PER_SCOPE }, (_, i) => [
      `k${i}`,
      JSON.stringify({ value: `v${i}`, at: 1_000 + i }),
    ]);
    await redis.hset(key, Object.fromEntries(fields));
    const recalled = await memory.recall('run', null);
    expect(recalled).toHaveLength(MAX_RECALLED_ENTRIES);
    expect(recalled[0]).toEqual({
      key: `k${MAX_ENTRIES_PER_SCOPE - 1}`,
      value: `v${MAX_ENTRIES_PER_SCOPE - 1}`,
      at: 1_499,
    });
    await expect(memory.remember('run', 'one-more', 'x')).rejects.toThrow(/memory is full \(500 keys\)/);
    await memory.remember('run', 'k0', 'replaced'); // an existing key may still change
    expect((await memory.recall('run', 'k0'))[0].value).toBe('replaced');
    expect(await redis.hlen(key)).toBe(MAX_ENTRIES_PER_SCOPE);
  });
});
