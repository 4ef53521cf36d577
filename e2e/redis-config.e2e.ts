// Redis as platform teams run it: behind a password, as a restricted ACL user, and the one setting Triad must
// refuse (an eviction policy that could drop queued jobs). Each case is a private redis-server.
import { afterEach, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { type ServiceRole, spawnService } from '../cli/src/stack/service-processes.js';
import { PrivateRedis } from './support/private-redis.js';
import { acceptedScript } from './support/scripts.js';
import { TriadHarness } from './support/triad-harness.js';

const scenario = { scripts: [acceptedScript('auth', [{ content: 'Four.' }])] };
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function privateRedis(args: string[]): Promise<PrivateRedis> {
  const redis = await PrivateRedis.start(args);
  cleanups.push(() => redis.stop());
  return redis;
}

async function runOneGoal(redisUrl: string): Promise<void> {
  const triad = await TriadHarness.start({ redisUrl, executors: 1, scenario });
  cleanups.push(() => triad.stop());
  const run = await triad.waitForRun(await triad.submit({ goal: 'goal:auth', runId: 'auth-run' }));
  expect(run).toMatchObject({ status: 'succeeded', answer: 'Four.' });
}

/** Starts one service against `redisUrl`, expecting it to refuse: resolves with what it printed. */
async function refusal(role: ServiceRole, redisUrl: string): Promise<string> {
  const env = { PATH: process.env.PATH, REDIS_URL: redisUrl, TRIAD_GATEWAY_PORT: '0', TRIAD_METRICS_PORT: '0' };
  // Generous: a refusal comes at once, and a busy machine must not turn a slow one into "not ready".
  const started = spawnService({ role, env, readyTimeoutMs: 120_000 });
  const err = await started.then(
    async (proc) => {
      await proc.stop();
      throw new Error(`${role} started against ${redisUrl}`);
    },
    (e: Error) => e,
  );
  return err.message;
}

describe('Redis with credentials', () => {
  it('runs a goal against a Redis with a password, given in REDIS_URL', async () => {
    const redis = await privateRedis(['--requirepass', 'pa:ss/w@rd']);
    await runOneGoal(redis.url({ password: 'pa:ss/w@rd' }));
  });

  it('runs a goal as an ACL user limited to its key prefix, without admin commands', async () => {
    // The harness's prefixes start with "t"; the user may touch nothing else, and no CONFIG, FLUSHALL, DEBUG...
    // redis-server joins the words after an option into one config line: `user triad on >triad-pw ...`.
    const redis = await privateRedis([
      ...['--user', 'default', 'off'],
      ...['--user', 'triad', 'on', '>triad-pw', '~t*', '&t*', '+@all', '-@dangerous', '+info'],
    ]);
    const asTriad = new Redis(redis.url({ user: 'triad', password: 'triad-pw' }));
    cleanups.push(async () => void asTriad.disconnect());
    await expect(asTriad.config('GET', 'maxmemory-policy')).rejects.toThrow(/NOPERM/);
    await expect(asTriad.set('elsewhere', '1')).rejects.toThrow(/NOPERM/);
    await runOneGoal(redis.url({ user: 'triad', password: 'triad-pw' }));
  });

  it('stops a service at once with a clear message when the password is wrong', async () => {
    const redis = await privateRedis(['--requirepass', 'right']);
    const message = await refusal('planner', redis.url({ password: 'wrong' }));
    expect(message).toMatch(/exited with code 2/);
    expect(message).toMatch(/Redis refused the credentials: WRONGPASS/);
    expect(message).not.toMatch(/wrong@/); // the URL with its password is not printed
  });
});

describe('Redis that may evict keys', () => {
  it.each(['planner', 'executor', 'judge', 'gateway'] as const)('is refused by the %s with the fix', async (role) => {
    const redis = await privateRedis(['--maxmemory', '64mb', '--maxmemory-policy', 'allkeys-lru']);
    const message = await refusal(role, redis.url());
    expect(message).toMatch(/exited with code 2/);
    expect(message).toMatch(/maxmemory-policy is \\?"allkeys-lru\\?".*noeviction/);
  });
});
