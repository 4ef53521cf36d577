import { afterAll, describe, expect, it } from '@jest/globals';
import { GoalRequest, type GoalRequestInput, jobIds, QUEUES, type RunRecord } from '@triad/contracts';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { loadConfig } from '../config/triad-config.js';
import { DISTILL_PRIORITY, DistillDispatch, mayLearnFrom } from './distill-dispatch.js';
import { learnEnabled, recallEnabled } from './memory-switches.js';

const redis = new Redis(process.env.REDIS_URL || 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
const prefix = `spec-distill-${process.pid}-${Date.now()}`;
const judge = new Queue(QUEUES.judge, { connection: redis, prefix });

afterAll(async () => {
  await judge.obliterate({ force: true });
  await judge.close();
  await redis.quit();
});

const config = loadConfig({
  TRIAD_TENANT_LIMITS: JSON.stringify({
    acme: { memory: { recall: false, learn: false } },
    recallonly: { memory: { learn: false } },
  }),
});

const ended = (over: Partial<RunRecord> & { goal?: GoalRequestInput } = {}, { goal, ...rest } = over): RunRecord =>
  ({
    id: 'r1',
    tenant: 'default',
    status: 'succeeded',
    iteration: 3,
    request: GoalRequest.parse(goal ?? { goal: 'book a room' }),
    ...rest,
  }) as RunRecord;

describe('switches', () => {
  it('are on by default; a goal or its tenant turns each off, and a goal cannot turn on what its tenant turned off', () => {
    expect(recallEnabled(config, 'default', {})).toBe(true);
    expect(learnEnabled(config, 'default', {})).toBe(true);
    expect(recallEnabled(config, 'default', { memory: { recall: false, learn: true } })).toBe(false);
    expect(learnEnabled(config, 'default', { memory: { recall: true, learn: false } })).toBe(false);
    expect(recallEnabled(config, 'acme', { memory: { recall: true, learn: true } })).toBe(false);
    expect(learnEnabled(config, 'acme', { memory: { recall: true, learn: true } })).toBe(false);
    expect(recallEnabled(config, 'recallonly', {})).toBe(true);
    expect(learnEnabled(config, 'recallonly', {})).toBe(false);
  });
});

describe('mayLearnFrom', () => {
  it('takes ended runs that may teach something', () => {
    expect(mayLearnFrom(ended(), config)).toBe(true);
    expect(mayLearnFrom(ended({ status: 'failed', iteration: 1 }), config)).toBe(true);
    expect(mayLearnFrom(ended({ status: 'budget_exceeded', iteration: 1 }), config)).toBe(true);
  });

  it('skips a smooth success in one iteration, a cancelled, running, rejected or replayed run, and learning turned off', () => {
    expect(mayLearnFrom(ended({ iteration: 1 }), config)).toBe(false);
    expect(mayLearnFrom(ended({ status: 'cancelled' }), config)).toBe(false);
    expect(mayLearnFrom(ended({ status: 'running' }), config)).toBe(false);
    expect(mayLearnFrom(ended({ request: null }), config)).toBe(false);
    expect(mayLearnFrom(ended({ goal: { goal: 'g', replayOf: { runId: 'r0' } } }), config)).toBe(false);
    expect(mayLearnFrom(ended({ goal: { goal: 'g', memory: { recall: true, learn: false } } }), config)).toBe(false);
    expect(mayLearnFrom(ended({ id: 'acme~r1', tenant: 'acme' }), config)).toBe(false);
  });
});

describe('DistillDispatch', () => {
  it('enqueues one distill job per run on the judge queue, behind every live stage, however often the run ends', async () => {
    const dispatch = new DistillDispatch(judge, config, { attempts: 3 });
    const run = ended({ id: 'globex~r7', tenant: 'globex' });
    expect(await dispatch.ended(run)).toBe(true);
    expect(await dispatch.ended(run)).toBe(true);
    expect(await dispatch.ended(ended({ id: 'r8', status: 'cancelled' }))).toBe(false);
    const jobs = await judge.getJobs(['prioritized', 'waiting']);
    expect(jobs.map((j) => [j.id, j.name, j.data, j.opts.priority, j.opts.attempts])).toEqual([
      [jobIds.distill('globex~r7'), 'distill', { runId: 'globex~r7' }, DISTILL_PRIORITY, 3],
    ]);
  });
});
