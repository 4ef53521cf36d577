import type { Redis } from 'ioredis';
import { masterNodes, type RedisClient } from './redis-connection.js';

const SAFE_POLICIES = new Set(['noeviction']);
/** Errors no retry can mend: wrong credentials, or a user the server does not know. */
const AUTH_ERROR = /WRONGPASS|NOAUTH|invalid password|invalid username/i;

/**
 * Refuses a Redis that could evict keys under memory pressure (BullMQ jobs and run records would vanish), and
 * turns an unreachable Redis or wrong credentials into one clear error instead of endless reconnecting.
 * The policy is read from INFO, which managed Redis and restricted ACL users allow where CONFIG is refused; on a
 * Redis Cluster, from every master.
 */
export async function assertRedisSafeForQueues(redis: RedisClient, timeoutMs = 10_000): Promise<void> {
  let lastError: Error | undefined;
  let rejectOnAuth: (err: Error) => void = () => {};
  const authFailed = new Promise<never>((_, reject) => {
    rejectOnAuth = reject;
  });
  const onError = (err: Error) => {
    lastError = err;
    if (AUTH_ERROR.test(err.message)) rejectOnAuth(new Error(`Redis refused the credentials: ${err.message}`));
  };
  redis.on('error', onError);
  redis.on('node error', onError); // a cluster node's own errors (wrong credentials)
  let timer: NodeJS.Timeout | undefined;
  try {
    const policy = await Promise.race([
      masterNodes(redis).then(async (nodes) => {
        const policies = await Promise.all(nodes.map(evictionPolicy));
        return policies.find((p) => p !== null && !SAFE_POLICIES.has(p)) ?? policies[0] ?? null;
      }),
      authFailed,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const why = lastError ? `: ${lastError.message}` : '';
          reject(new Error(`cannot reach Redis: no answer within ${timeoutMs} ms${why}`));
        }, timeoutMs);
      }),
    ]);
    if (policy !== null && !SAFE_POLICIES.has(policy)) {
      throw new Error(
        `Redis maxmemory-policy is "${policy}": it may evict queued jobs. Set it to "noeviction" ` +
          '(redis-cli CONFIG SET maxmemory-policy noeviction, or in redis.conf).',
      );
    }
  } finally {
    clearTimeout(timer);
    redis.off('error', onError);
    redis.off('node error', onError);
  }
}

/** The server's maxmemory-policy, or null when neither INFO nor CONFIG may be read. */
async function evictionPolicy(redis: Redis): Promise<string | null> {
  const info = await redis.info('memory').catch((err: Error) => err);
  if (typeof info === 'string') {
    const policy = /^maxmemory_policy:(\S+)/m.exec(info)?.[1];
    if (policy) return policy;
  } else if (AUTH_ERROR.test(info.message)) {
    throw new Error(`Redis refused the credentials: ${info.message}`);
  }
  const reply = await redis.config('GET', 'maxmemory-policy').catch((err: Error) => err);
  if (reply instanceof Error) {
    if (/unknown command|NOPERM|not allowed/i.test(reply.message)) return null;
    throw new Error(`cannot read Redis's maxmemory-policy: ${reply.message}`);
  }
  return (reply as string[])[1] ?? null;
}
