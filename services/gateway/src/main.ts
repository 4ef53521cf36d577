// First: tracing is set up before anything it instruments (http, when exporting) is loaded.
import '@triad/shared/register';
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import {
  assertRedisSafeForQueues,
  ConfigError,
  createRedisConnection,
  describeError,
  JsonNestLogger,
  loadConfig,
  startQueueDepthGauge,
  type TriadConfig,
} from '@triad/shared';
import { GatewayModule } from './gateway.module.js';
import { configureGateway } from './gateway-app.js';

const logger = new Logger('gateway');
let config: TriadConfig;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(`triad gateway: ${err.message}`);
    process.exit(2);
  }
  throw err;
}
const redis = createRedisConnection(config, 'triad-gateway');
try {
  await assertRedisSafeForQueues(redis);
} catch (err) {
  console.error(`triad gateway: ${describeError(err)}`);
  redis.disconnect();
  process.exit(2);
}
process.on('unhandledRejection', (reason) => logger.error(`unhandled rejection: ${describeError(reason)}`));

const app = await NestFactory.create<NestExpressApplication>(GatewayModule.forRoot(config, redis), {
  bodyParser: false,
  logger: new JsonNestLogger(),
});
app.enableShutdownHooks();
const closeDashboard = configureGateway(app, config, redis);
// The gateway never scales to zero: its queue-depth gauges are there when every worker role is at zero replicas.
const stopDepth = startQueueDepthGauge(config, redis);
// Without keys every caller is an admin, so nothing but this machine may reach the gateway.
const open = config.gateway.apiKeys.length > 0;
const host = open ? config.gateway.host : '127.0.0.1';
if (!open) {
  logger.warn(
    'TRIAD_API_KEYS is not set: every caller is an anonymous admin, so the gateway listens on 127.0.0.1 only. ' +
      'Set TRIAD_API_KEYS (name:key:roles,...) to serve other hosts.',
  );
}
await app.listen(config.gateway.port, host);
const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
logger.log(`ready (prefix "${config.prefix}") on ${url}`);

let closing = false;
const shutdown = async () => {
  if (closing) return;
  closing = true;
  await app.close();
  await closeDashboard();
  await stopDepth();
  await redis.quit().catch(() => redis.disconnect());
};
// enableShutdownHooks closes the app on SIGTERM/SIGINT; Redis is closed after it.
app.getHttpServer().once('close', () => void shutdown());
