import { afterAll, describe, expect, it } from '@jest/globals';
import { GoalRequest, type GoalRequestInput, jobIds, QUEUES, type RunRecord } from '@triad/contracts';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { loadConfig } from '../config/triad-config.js';
import { RunStore } from '../store/run-store.js';
import { DISTILL_PRIORITY, DistillDispatch, mayLearnFrom } from './distill-dispatch.js';
import { learnEnabled, recallEnabled } from './memory-switches.js';

const redis = new Redis(process.env.REDIS_URL || 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
const prefix = `spec-distill-${process.pid}-${Date.now()}`;
const judge = new Queue(QUEUES.judge, { connection: redis, prefix });
const store = new RunStore(redis, prefix);

afterAll(async () => {
  await judge.obliterate({ force: true });
  for await (const keys of redis.scanStream({ match: `${prefix}:*` })) if (keys.length) await redis.del(...keys);
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
    const dispatch = new DistillDispatch(judge, store, config, { attempts: 3 });
    const run = ended({ id: 'globex~r7', tenant: 'globex', status: 'failed' });
    expect(await dispatch.ended(run)).toBe(true);
    expect(await dispatch.ended(run)).toBe(true);
    expect(await dispatch.ended(ended({ id: 'r8', status: 'cancelled' }))).toBe(false);
    const jobs = await judge.getJobs(['prioritized', 'waiting']);
    expect(jobs.map((j) => [j.id, j.name, j.data, j.opts.priority, j.opts.attempts])).toEqual([
      [jobIds.distill('globex~r7'), 'distill', { runId: 'globex~r7' }, DISTILL_PRIORITY, 3],
    ]);
  });

  it('enqueues a succeeded run only when its events show something to learn (a smooth run costs no job)', async () => {
    const dispatch = new DistillDispatch(judge, store, config);
    const succeeded = async (id: string, failedCall: boolean) => {
      await store.create(id, GoalRequest.parse({ goal: 'book a room' }));
      const observation = failedCall
        ? {
            ok: false as const,
            error: { code: 'tool_error' as const, message: 'dates are YYYY-MM-DD', retryable: false },
          }
        : { ok: true as const, data: 'booked' };
      const event = {
        type: 'observation' as const,
        iteration: 1,
        stepId: '1-0',
        callId: 'c',
        tool: 'book',
        executor: 'e',
        durationMs: 1,
        observation,
      };
      await store.once(id, 'step:1-0', z.literal(1), 1, [event]);
      return ended({ id, status: 'succeeded', iteration: 2 });
    };
    expect(await dispatch.ended(await succeeded('smooth', false))).toBe(false);
    expect(await dispatch.ended(await succeeded('bumpy', true))).toBe(true);
    const ids = (await judge.getJobs(['prioritized', 'waiting'])).map((j) => j.id);
    expect(ids).toContain(jobIds.distill('bumpy'));
    expect(ids).not.toContain(jobIds.distill('smooth'));
  });
});
