import 'reflect-metadata';
import { WorkerHost } from '@nestjs/bullmq';
import { type DynamicModule, type INestApplicationContext, Logger, type Type } from '@nestjs/common';
import { DiscoveryService, NestFactory } from '@nestjs/core';
import { QUEUES } from '@triad/contracts';
import { Queue } from 'bullmq';
import { loadConfig, type TriadConfig } from '../config/triad-config.js';
import { ConfigError, describeError } from '../errors/triad-error.js';
import type { RedisClient } from '../queue/redis-connection.js';
import { createRedisConnection } from '../queue/redis-connection.js';
import { assertRedisSafeForQueues } from '../queue/redis-policy.js';
import { JsonNestLogger, jsonLogger } from '../telemetry/json-logger.js';
import { telemetryState } from '../telemetry/telemetry-state.js';
import { observeQueueDepth } from '../telemetry/triad-metrics.js';
import { type HealthServer, type RunningWorker, startHealthServer } from './health-server.js';

export type ServiceModuleFactory = (config: TriadConfig, redis: RedisClient) => Type<unknown> | DynamicModule;

/**
 * Starts one Triad service: parses the configuration (a bad value stops it with a clear message), checks Redis,
 * builds the Nest application with JSON logs and, on SIGTERM or SIGINT, lets in-flight jobs finish, then flushes
 * telemetry and closes Redis. Tracing itself starts earlier, in the `--import` preload (telemetry/register.ts).
 */
export async function bootstrapService(
  role: string,
  moduleFor: ServiceModuleFactory,
): Promise<INestApplicationContext> {
  let config: TriadConfig;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      jsonLogger().fatal(`triad ${role}: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  const nestLogger = new JsonNestLogger(jsonLogger(config.telemetry.logLevel));
  Logger.overrideLogger(nestLogger);
  const logger = new Logger(role);
  const redis = createRedisConnection(config, `triad-${role}`);
  let health: HealthServer | undefined;
  try {
    // Before the application is built, so liveness answers while it boots (readiness says `starting`).
    if (config.healthPort) health = await startHealthServer(config.healthPort, redis);
    await assertRedisSafeForQueues(redis);
  } catch (err) {
    logger.fatal(`triad ${role}: ${describeError(err)}`);
    redis.disconnect();
    process.exit(2);
  }
  // A stray rejection must not take a worker down with jobs in flight; it is logged and the job retried by BullMQ.
  process.on('unhandledRejection', (reason) => logger.error(`unhandled rejection: ${describeError(reason)}`));

  const app = await NestFactory.createApplicationContext(moduleFor(config, redis), { logger: nestLogger });
  const stopDepth = startQueueDepthGauge(config, redis);
  health?.ready(workersOf(app));
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    logger.log(`${signal}: finishing in-flight jobs`);
    health?.draining();
    await app.close();
    await stopDepth();
    await telemetryState()
      .shutdown()
      .catch((err) => logger.warn(`telemetry did not flush: ${describeError(err)}`));
    await redis.quit().catch(() => redis.disconnect());
    await health?.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
  logger.log(`ready (prefix "${config.prefix}")${health ? `, health on port ${health.port}` : ''}`);
  return app;
}

/** The BullMQ workers the application started (one per @Processor). */
function workersOf(app: INestApplicationContext): RunningWorker[] {
  const providers = app.get(DiscoveryService, { strict: false }).getProviders();
  return providers.flatMap((p) => (p.instance instanceof WorkerHost ? [p.instance.worker] : []));
}

/**
 * The queue-depth gauges (triad-metrics.ts) of every Triad queue, for a service that exports metrics; the gateway
 * starts them too, so they are exported while every worker role is scaled to zero. Job counts are read from Redis
 * only when someone collects metrics (OTLP export or a Prometheus scrape). Returns the function that stops them.
 */
export function startQueueDepthGauge(config: TriadConfig, redis: RedisClient): () => Promise<void> {
  if (!config.telemetry.otlpEndpoint && !config.telemetry.metricsPort) return async () => {};
  const queues = Object.values(QUEUES).map((name) => new Queue(name, { connection: redis, prefix: config.prefix }));
  const stop = observeQueueDepth(queues);
  return async () => {
    stop();
    await Promise.all(queues.map((q) => q.close()));
  };
}
