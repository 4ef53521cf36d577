import { describe, expect, it } from '@jest/globals';
import {
  type ConcurrencyPolicy,
  concurrencyPolicy,
  MAX_CONCURRENCY,
  memoryCeiling,
  nextConcurrency,
  type PolicyInputs,
  type Pressure,
} from './concurrency-policy.js';

const MB = 1024 * 1024;

describe('memoryCeiling', () => {
  it.each([
    // heap limit, job bytes, ceiling
    [4096 * MB, 1 * MB, MAX_CONCURRENCY], // a large heap: capped, more needs replicas
    [512 * MB, 1 * MB, 256], // half the heap for jobs
    [256 * MB, 2 * MB, 64],
    [64 * MB, 1 * MB, 32],
    [1 * MB, 4 * MB, 1], // never zero
    [100 * MB, 0, MAX_CONCURRENCY], // a zero estimate does not divide by zero
  ])('a heap of %d bytes at %d bytes a job holds %d jobs', (heap, job, ceiling) => {
    expect(memoryCeiling(heap, job)).toBe(ceiling);
  });
});

describe('concurrencyPolicy', () => {
  const base: PolicyInputs = {
    role: 'planner',
    explicit: undefined,
    heapLimitBytes: 512 * MB,
    jobHeapBytes: 1 * MB,
    toolResponseBytes: 1 * MB,
    loopDelayHighMs: 250,
    redisLatencyHighMs: 250,
  };

  it.each([
    // role, explicit, ceiling, floor
    ['planner', undefined, 256, 64], // backs off to a quarter of its ceiling at most
    ['judge', undefined, 256, 64],
    ['executor', undefined, 128, 32], // an executor job may also hold a whole tool response
    ['planner', 500, 500, 125], // an explicit number wins over the heap
    ['judge', 16, 16, 8], // never below 8
    ['executor', 4, 4, 4], // a ceiling below 8 is kept
    ['judge', 1, 1, 1],
  ] as const)('%s with TRIAD_*_CONCURRENCY=%s: ceiling %d, floor %d', (role, explicit, ceiling, floor) => {
    expect(concurrencyPolicy({ ...base, role, explicit })).toMatchObject({ ceiling, floor });
  });
});

describe('nextConcurrency', () => {
  const policy: ConcurrencyPolicy = {
    ceiling: 400,
    floor: 8,
    loopDelayHighMs: 200,
    redisLatencyHighMs: 100,
    heapHighShare: 0.8,
  };
  const calm: Pressure = { loopDelayMs: 20, redisLatencyMs: 2, heapShare: 0.2 };

  it.each([
    // why, current, pressure, next
    ['calm at the ceiling stays there', 400, calm, 400],
    ['calm below the ceiling climbs an eighth of it', 100, calm, 150],
    ['calm near the ceiling stops at it', 390, calm, 400],
    ['a slow event loop halves it', 400, { ...calm, loopDelayMs: 450 }, 200],
    ['slow Redis halves it', 400, { ...calm, redisLatencyMs: 150 }, 200],
    ['Redis unreachable halves it', 400, { ...calm, redisLatencyMs: Number.POSITIVE_INFINITY }, 200],
    ['a full heap halves it', 400, { ...calm, heapShare: 0.85 }, 200],
    ['halving stops at the floor', 12, { ...calm, loopDelayMs: 900 }, 8],
    ['between half the mark and the mark it holds', 100, { ...calm, loopDelayMs: 150 }, 100],
    ['a heap between 60% and 80% holds', 100, { ...calm, heapShare: 0.7 }, 100],
    ['a lowered explicit ceiling pulls it down', 500, calm, 400],
  ])('%s', (_why, current, pressure, next) => {
    expect(nextConcurrency(current, pressure, policy)).toBe(next);
  });

  it('sheds to the floor in a few windows and recovers to the ceiling in about eight', () => {
    let c = policy.ceiling;
    let windows = 0;
    while (c > policy.floor) {
      c = nextConcurrency(c, { ...calm, loopDelayMs: 1_000 }, policy);
      windows++;
    }
    expect(windows).toBeLessThanOrEqual(6);
    windows = 0;
    while (c < policy.ceiling) {
      c = nextConcurrency(c, calm, policy);
      windows++;
    }
    expect(windows).toBeLessThanOrEqual(8);
  });
});
