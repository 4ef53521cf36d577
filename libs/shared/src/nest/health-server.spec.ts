import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { afterAll, describe, expect, it } from '@jest/globals';
import { Worker } from 'bullmq';
import { createRedisConnection } from '../queue/redis-connection.js';
import { HEALTH_PATHS, startHealthServer } from './health-server.js';

// The health listener of planner, executor and judge against a real Redis and a real BullMQ worker.
const url = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const prefix = `spec${randomBytes(4).toString('hex')}`;
const connection = createRedisConnection(url, 'spec');

afterAll(() => connection.disconnect());

/** A port nothing listens on (taken, then given back). */
const closedPort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

async function get(port: number, path: string) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: (await res.json()) as Record<string, Record<string, unknown>> };
}

describe('startHealthServer', () => {
  it('is live at once, ready only while its workers run and Redis answers, and not ready once draining', async () => {
    const health = await startHealthServer(0, connection);
    const worker = new Worker('plan', async () => 'done', { connection, prefix });
    try {
      expect(await get(health.port, HEALTH_PATHS.live)).toMatchObject({ status: 200, body: { status: 'ok' } });
      expect(await get(health.port, HEALTH_PATHS.ready)).toMatchObject({
        status: 503,
        body: { status: 'error', error: { service: { status: 'down', message: 'starting' } } },
      });

      health.ready([worker]);
      expect(await get(health.port, HEALTH_PATHS.ready)).toMatchObject({
        status: 200,
        body: { status: 'ok', info: { workers: { status: 'up' }, redis: { status: 'up' } } },
      });

      health.draining();
      expect(await get(health.port, HEALTH_PATHS.ready)).toMatchObject({
        status: 503,
        body: { error: { service: { message: 'shutting down' } } },
      });
      expect((await get(health.port, HEALTH_PATHS.live)).status).toBe(200);
      expect((await get(health.port, '/metrics')).status).toBe(404);
    } finally {
      await worker.close();
      await health.close();
    }
  });

  it('names a worker that stopped running', async () => {
    const health = await startHealthServer(0, connection);
    const worker = new Worker('act', async () => 'done', { connection, prefix });
    try {
      health.ready([worker]);
      await worker.close();
      expect(await get(health.port, HEALTH_PATHS.ready)).toMatchObject({
        status: 503,
        body: { error: { workers: { status: 'down', message: 'not running: act' } } },
      });
    } finally {
      await health.close();
    }
  });

  it('is not ready while Redis does not answer, and says so within the probe’s timeout', async () => {
    // A port nothing listens on: ioredis keeps reconnecting, and PING waits in its offline queue.
    const away = createRedisConnection(`redis://127.0.0.1:${await closedPort()}`, 'spec-away');
    away.on('error', () => {});
    const health = await startHealthServer(0, away);
    try {
      health.ready([{ name: 'plan', isRunning: () => true }]);
      const { status, body } = await get(health.port, HEALTH_PATHS.ready);
      expect(status).toBe(503);
      expect(body).toMatchObject({ error: { redis: { status: 'down' } }, info: { workers: { status: 'up' } } });
    } finally {
      await health.close();
      away.disconnect();
    }
  });
});
