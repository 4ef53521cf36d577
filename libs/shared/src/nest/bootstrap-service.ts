import 'reflect-metadata';
import { type INestApplicationContext, Logger, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Redis } from 'ioredis';
import { loadConfig, type TriadConfig } from '../config/triad-config.js';
import { ConfigError, describeError } from '../errors/triad-error.js';
import { createRedisConnection } from '../queue/redis-connection.js';
import { assertRedisSafeForQueues } from '../queue/redis-policy.js';

export type ServiceModuleFactory = (
  config: TriadConfig,
  redis: Redis,
) => Type<unknown> | import('@nestjs/common').DynamicModule;

/**
 * Starts one Triad service: parses the configuration (a bad value stops it with a clear message), checks Redis,
 * builds the Nest application and, on SIGTERM or SIGINT, lets in-flight jobs finish before closing Redis.
 */
export async function bootstrapService(
  role: string,
  moduleFor: ServiceModuleFactory,
): Promise<INestApplicationContext> {
  const logger = new Logger(role);
  let config: TriadConfig;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`triad ${role}: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  const redis = createRedisConnection(config.redisUrl, `triad-${role}`);
  try {
    await assertRedisSafeForQueues(redis);
  } catch (err) {
    console.error(`triad ${role}: ${describeError(err)}`);
    redis.disconnect();
    process.exit(2);
  }
  // A stray rejection must not take a worker down with jobs in flight; it is logged and the job retried by BullMQ.
  process.on('unhandledRejection', (reason) => logger.error(`unhandled rejection: ${describeError(reason)}`));

  const app = await NestFactory.createApplicationContext(moduleFor(config, redis), {
    logger: ['error', 'warn', 'log'],
  });
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    logger.log(`${signal}: finishing in-flight jobs`);
    await app.close();
    await redis.quit().catch(() => redis.disconnect());
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
  logger.log(`ready (prefix "${config.prefix}")`);
  return app;
}
