import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import {
  CAPACITY_RESUME_RATIO,
  type CapacityState,
  nextHigh,
  parseRedisMemory,
  RedisCapacity,
} from './redis-capacity.js';

// A redis-server of this spec's own (on a Unix socket, so no port is taken): its maxmemory is changed at will, which
// the shared Redis of the other specs must never see.
let dir: string;
let server: ChildProcess;
let redis: Redis;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'triad-capacity-'));
  const socket = join(dir, 'redis.sock');
  server = spawn(
    'redis-server',
    ['--port', '0', '--unixsocket', socket, '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'],
    { stdio: 'ignore' },
  );
  redis = new Redis({ path: socket, maxRetriesPerRequest: null, retryStrategy: () => 50 });
  await redis.ping();
  // A filler, so small drifts of used memory between two readings (buffers, INFO itself) are far below the margins.
  // Written by SETRANGE: a 2 MB SET would leave a 2 MB query buffer behind, which Redis frees later, at its leisure.
  await redis.setrange('filler', 2 * 1024 * 1024, 'x');
});

afterAll(async () => {
  await redis?.quit();
  server?.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  await redis.config('SET', 'maxmemory', '0');
});

/** Sets maxmemory so that the memory in use now is about `fraction` of it. */
async function setUsedFraction(fraction: number): Promise<void> {
  const memory = parseRedisMemory(await redis.info('memory'));
  await redis.config('SET', 'maxmemory', String(Math.round((memory?.usedBytes ?? 0) / fraction)));
}

describe('RedisCapacity', () => {
  it('pauses at the threshold and resumes only below 95% of it, without flapping in between', async () => {
    const capacity = new RedisCapacity(redis, 0.5);
    const changes: boolean[] = [];
    capacity.onChange((s) => changes.push(s.high));
    const highAt = async (fraction: number) => {
      await setUsedFraction(fraction);
      const state = await capacity.sample();
      expect(state.usedFraction).toBeCloseTo(fraction, 2);
      return state.high;
    };
    // From below: open up to the threshold, paused from it on.
    expect(await highAt(0.3)).toBe(false);
    expect(await highAt(0.49)).toBe(false);
    expect(await highAt(0.55)).toBe(true);
    // From above: still paused between the resume mark (0.475) and the threshold, open below the mark.
    expect(await highAt(0.49)).toBe(true);
    expect(await highAt(0.485)).toBe(true);
    expect(await highAt(0.44)).toBe(false);
    expect(await highAt(0.49)).toBe(false);
    expect(changes).toEqual([true, false]);
    expect(capacity.describe()).toMatch(
      /^redis memory 49\.\d% of maxmemory \(pauses at TRIAD_REDIS_MEMORY_HIGH 0\.5\)$/,
    );
  });

  it('pauses when a write fills Redis past the threshold and resumes when it is deleted', async () => {
    const capacity = new RedisCapacity(redis, 0.6);
    await setUsedFraction(0.4);
    expect((await capacity.sample()).high).toBe(false);
    await redis.setrange('filler-2', 2 * 1024 * 1024, 'y'); // about 0.4 more
    const high = await capacity.sample();
    expect(high).toMatchObject({ high: true, threshold: 0.6 });
    expect(high.usedFraction).toBeGreaterThan(0.6);
    expect(capacity.describe()).toMatch(
      /^redis memory high: \d+\.\d% of maxmemory used \(paused at .* resumes below 0\.57\)$/,
    );
    await redis.del('filler-2');
    expect((await capacity.sample()).high).toBe(false);
  });

  it('does not guard a Redis without maxmemory, and starts guarding once it has one', async () => {
    const capacity = new RedisCapacity(redis, 0.5);
    const changes: CapacityState[] = [];
    capacity.onChange((s) => changes.push(s));
    expect(await capacity.sample()).toEqual({
      high: false,
      usedFraction: null,
      threshold: 0.5,
      off: 'Redis has no maxmemory',
    });
    await setUsedFraction(0.8);
    expect(await capacity.sample()).toMatchObject({ high: true, threshold: 0.5 });
    expect(capacity.state.off).toBeUndefined();
    await redis.config('SET', 'maxmemory', '0');
    expect(await capacity.sample()).toMatchObject({ high: false, off: 'Redis has no maxmemory' });
    expect(changes.map((s) => [s.high, s.off])).toEqual([
      [false, 'Redis has no maxmemory'],
      [true, undefined],
      [false, 'Redis has no maxmemory'],
    ]);
  });

  it('is off at a threshold of 0: it never reads Redis', async () => {
    await setUsedFraction(0.99);
    const capacity = new RedisCapacity(redis, 0);
    await capacity.start();
    expect(await capacity.sample()).toEqual({
      high: false,
      usedFraction: null,
      threshold: 0,
      off: 'TRIAD_REDIS_MEMORY_HIGH is 0',
    });
    capacity.stop();
  });

  it('is off, saying why, when an ACL refuses INFO', async () => {
    await setUsedFraction(0.99);
    await redis.acl('SETUSER', 'no-info', 'on', '>pw', '~*', '+@all', '-info');
    const limited = new Redis({
      path: redis.options.path,
      username: 'no-info',
      password: 'pw',
      enableReadyCheck: false,
    });
    try {
      const state = await new RedisCapacity(limited, 0.5).sample();
      expect(state).toMatchObject({ high: false, usedFraction: null });
      expect(state.off).toMatch(/^INFO refused: NOPERM/);
    } finally {
      limited.disconnect();
    }
  });

  it('keeps sampling on its own once started, and tells listeners when intake pauses', async () => {
    const capacity = new RedisCapacity(redis, 0.5, 20);
    await setUsedFraction(0.2);
    await capacity.start();
    expect(capacity.high).toBe(false);
    const paused = new Promise<CapacityState>((resolve) => capacity.onChange(resolve));
    await setUsedFraction(0.7);
    expect(await paused).toMatchObject({ high: true });
    capacity.stop();
  });
});

describe('nextHigh', () => {
  it('is the hysteresis: threshold to pause, the resume ratio of it to resume, never without a fraction', () => {
    expect(CAPACITY_RESUME_RATIO).toBe(0.95);
    expect(nextHigh(false, 0.9, 0.9)).toBe(true);
    expect(nextHigh(false, 0.89, 0.9)).toBe(false);
    expect(nextHigh(true, 0.86, 0.9)).toBe(true);
    expect(nextHigh(true, 0.85, 0.9)).toBe(false);
    expect(nextHigh(true, null, 0.9)).toBe(false);
    expect(nextHigh(true, 1, 0)).toBe(false);
  });
});

describe('parseRedisMemory', () => {
  it('counts used memory as the maxmemory check does', () => {
    const info = '# Memory\r\nused_memory:5000\r\nmaxmemory:10000\r\nmem_not_counted_for_evict:1000\r\n';
    expect(parseRedisMemory(info)).toEqual({ usedBytes: 4000, maxBytes: 10000 });
    expect(parseRedisMemory('used_memory:5\r\nmaxmemory:0\r\n')).toEqual({ usedBytes: 5, maxBytes: 0 });
    expect(parseRedisMemory('# Memory\r\n')).toBeNull();
  });
});
