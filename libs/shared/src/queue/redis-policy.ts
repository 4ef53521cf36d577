import type { Redis } from 'ioredis';

const SAFE_POLICIES = new Set(['noeviction']);

/**
 * Refuses a Redis that could evict keys under memory pressure: BullMQ jobs and run records would vanish.
 * Some managed Redis forbid CONFIG; then the check is skipped with the server's word for it.
 */
export async function assertRedisSafeForQueues(redis: Redis, timeoutMs = 10_000): Promise<void> {
  const reply = await Promise.race([
    redis.config('GET', 'maxmemory-policy').catch((err: Error) => err),
    new Promise<Error>((r) => setTimeout(() => r(new Error(`no answer from Redis within ${timeoutMs} ms`)), timeoutMs)),
  ]);
  if (reply instanceof Error) {
    if (/unknown command|NOPERM|not allowed/i.test(reply.message)) return;
    throw new Error(`cannot reach Redis: ${reply.message}`);
  }
  const policy = (reply as string[])[1];
  if (policy && !SAFE_POLICIES.has(policy)) {
    throw new Error(
      `Redis maxmemory-policy is "${policy}": it may evict queued jobs. Set it to "noeviction" ` +
        '(redis-cli CONFIG SET maxmemory-policy noeviction, or in redis.conf).',
    );
  }
}
