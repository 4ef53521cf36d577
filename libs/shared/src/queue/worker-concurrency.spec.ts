import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from '@jest/globals';
import { Worker } from 'bullmq';
import { loadConfig } from '../config/triad-config.js';
import { createRedisConnection } from './redis-connection.js';
import { applyWorkerConcurrency } from './worker-concurrency.js';

const url = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const prefix = `spec${randomBytes(4).toString('hex')}`;
const connection = createRedisConnection(url, 'spec');
const workers: Worker[] = [];

function worker(): Worker {
  const w = new Worker('plan', async () => 'done', {
    connection,
    prefix,
    autorun: false,
  });
  workers.push(w);
  return w;
}

afterAll(async () => {
  await Promise.all(workers.map((w) => w.close()));
  connection.disconnect(); // a connection passed in stays open when its workers close
});

describe('applyWorkerConcurrency', () => {
  it('starts the worker at its ceiling: the explicit number, else what the heap holds', () => {
    const explicit = applyWorkerConcurrency(worker(), loadConfig({ TRIAD_PLANNER_CONCURRENCY: '37' }), 'planner');
    expect(explicit.policy).toMatchObject({ ceiling: 37, floor: 10 });
    const derived = applyWorkerConcurrency(worker(), loadConfig({}), 'judge');
    expect(derived.policy.ceiling).toBeGreaterThan(100); // any test machine's heap holds more than 100 jobs of 1 MB
    expect(workers.map((w) => w.concurrency)).toEqual([37, derived.policy.ceiling]);
  });

  it('measures the event loop, the heap and a round trip to Redis on the worker connection', async () => {
    const controller = applyWorkerConcurrency(worker(), loadConfig({ TRIAD_JUDGE_CONCURRENCY: '64' }), 'judge');
    controller.measure(); // sends the first probe
    await controller.probeSettled();
    const pressure = controller.measure();
    expect(pressure.redisLatencyMs).toBeGreaterThan(0);
    expect(Number.isFinite(pressure.redisLatencyMs)).toBe(true); // answered, not failed
    expect(pressure.heapShare).toBeGreaterThan(0);
    expect(pressure.heapShare).toBeLessThan(1);
    expect(Number.isFinite(pressure.loopDelayMs)).toBe(true);
  });
});
