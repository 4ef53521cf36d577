import { Redis } from 'ioredis';

/**
 * An ioredis connection fit for BullMQ and the run store: commands wait while Redis is away
 * (maxRetriesPerRequest: null) instead of failing, and reconnects back off up to 2 s.
 */
export function createRedisConnection(url: string, name: string): Redis {
  return new Redis(url, {
    connectionName: name,
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    retryStrategy: (times) => Math.min(100 * 2 ** times, 2_000),
  });
}
