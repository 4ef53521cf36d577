// Model rate limits across replicas: two planner processes share one BullMQ limiter, and a 429 from the model
// pauses both of them, not just the one that met it. Times are the scripted server's own request clock.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Scenario } from '@triad/testing';
import { ACCEPT, acceptedScript } from './support/scripts.js';
import { TriadHarness } from './support/triad-harness.js';

const RETRY_AFTER_S = 2;

const scenario: Scenario = {
  scripts: [
    acceptedScript('slow-down', [
      { fault: { status: 429, message: 'rate limit reached', retryAfterSeconds: RETRY_AFTER_S } },
      { content: 'Done after waiting.' },
    ]),
    // No Retry-After header: the documented default pause of 1 s.
    acceptedScript('no-retry-after', [
      { fault: { status: 429, message: 'rate limit reached, no hint given' } },
      { content: 'Done after the default pause.' },
    ]),
    // A provider that never lets up: more 429s than the run's time allows.
    acceptedScript('never-lets-up', Array(30).fill({ fault: { status: 429, message: 'rate limit reached' } })),
    acceptedScript('meanwhile', [{ content: 'Done.' }], Array(6).fill(ACCEPT)),
    acceptedScript('limited', [{ content: 'Done within the limit.' }], Array(6).fill(ACCEPT)),
  ],
};

const plannerCalls = (triad: TriadHarness, script: string) =>
  triad.model.requestsFor('planner').filter((r) => r.script === script);

/**
 * The planner that met a 429 sets a pause on the queue itself, in Redis, for every replica (BullMQ marks a pause by
 * filling the limiter to MAX_SAFE_INTEGER; asking with that maximum sees the pause, not the counting). Returns the
 * pause left and when it was asked; polled often, since the pause is short.
 */
function pauseSeen(triad: TriadHarness): Promise<{ asked: number; ttl: number }> {
  return triad.eventually(
    async () => {
      const asked = Date.now();
      const ttl = await triad.queues.plan.getRateLimitTtl(Number.MAX_SAFE_INTEGER);
      return ttl > 0 && { asked, ttl };
    },
    { what: 'the pause of the plan queue', intervalMs: 10 },
  );
}

describe('a 429 from the model', () => {
  let triad: TriadHarness;
  beforeAll(async () => {
    // With the client's own retries on: a 429 must still go to the queue, not be retried inside one process.
    triad = await TriadHarness.start({ scenario, executors: 1, env: { TRIAD_MODEL_MAX_RETRIES: '2' } });
    await triad.spawn('planner', 'planner-2');
  });
  afterAll(async () => {
    await triad?.stop();
  });

  it('pauses every planner replica for the Retry-After, then the run goes on without losing an attempt', async () => {
    const limited = await triad.submit({ goal: 'goal:slow-down', runId: 'rl-429' });
    await triad.eventually(() => plannerCalls(triad, 'slow-down').length === 1, { what: 'the 429', intervalMs: 10 });
    const { asked, ttl } = await pauseSeen(triad);
    expect(ttl).toBeGreaterThan(RETRY_AFTER_S * 1000 - 1000); // the provider's Retry-After, not a guess
    // Goals sent while the pause holds: both planners are idle and free, yet neither may call the model yet.
    const others = await Promise.all(
      [1, 2, 3, 4, 5, 6].map((i) => triad.submit({ goal: 'goal:meanwhile', runId: `rl-meanwhile-${i}` })),
    );
    const runs = await Promise.all([limited, ...others].map((id) => triad.waitForRun(id)));
    expect(runs.map((r) => r.status)).toEqual(Array(7).fill('succeeded'));

    const hitAt = plannerCalls(triad, 'slow-down')[0]?.at ?? 0;
    const after = triad.model.requestsFor('planner').filter((r) => r.at > hitAt);
    expect(after).toHaveLength(7);
    // Allow the clock's granularity, nothing more: no model call before the pause ran out.
    const earliest = Math.min(...after.map((r) => r.at));
    expect(earliest).toBeGreaterThanOrEqual(asked + ttl - 50);
    // The 429 did not use up an attempt: the job shows what a job served at once shows.
    const [job, plain] = await Promise.all(
      ['plan-rl-429-1', 'plan-rl-meanwhile-1-1'].map((id) => triad.queues.plan.getJob(id)),
    );
    expect(job?.attemptsMade).toBe(plain?.attemptsMade);
    expect(job?.stacktrace).toEqual([]);
  });

  it('pauses for 1 s when the 429 has no Retry-After, then the run goes on without losing an attempt', async () => {
    const runId = await triad.submit({ goal: 'goal:no-retry-after', runId: 'rl-no-hint' });
    await triad.eventually(() => plannerCalls(triad, 'no-retry-after').length === 1, {
      what: 'the 429',
      intervalMs: 10,
    });
    const { ttl } = await pauseSeen(triad);
    expect(ttl).toBeLessThanOrEqual(1000); // the default, not a guess from elsewhere
    const run = await triad.waitForRun(runId);
    expect(run).toMatchObject({ status: 'succeeded', answer: 'Done after the default pause.' });
    // One call met the 429, one more after the pause: the client did not retry it itself (its retries are on).
    const calls = plannerCalls(triad, 'no-retry-after');
    expect(calls).toHaveLength(2);
    expect(calls[1].at - calls[0].at).toBeGreaterThanOrEqual(1000 - 50);
    const job = await triad.queues.plan.getJob('plan-rl-no-hint-1');
    expect(job?.attemptsMade).toBe(1); // the one that ran; the 429 used none
    expect(job?.stacktrace).toEqual([]);
  });

  it('ends a run whose model keeps answering 429 at its timeoutMs, not by using up attempts', async () => {
    const runId = await triad.submit({ goal: 'goal:never-lets-up', runId: 'rl-never', budget: { timeoutMs: 8_000 } });
    const run = await triad.waitForRun(runId);
    expect(run).toMatchObject({
      status: 'budget_exceeded',
      error: { code: 'budget_exceeded', message: 'timeoutMs: run older than 8000 ms' },
    });
    // More model calls than TRIAD_JOB_ATTEMPTS (3), and no failure: a 429 is a pause of 1 s, never a failed attempt
    // (counted as attempts, they would have failed the run with model_error within about 3 s).
    expect(plannerCalls(triad, 'never-lets-up').length).toBeGreaterThan(3);
    expect((await triad.queues.plan.getJob('plan-rl-never-1'))?.stacktrace).toEqual([]);
  });
});

describe('TRIAD_MODEL_RATE_LIMIT', () => {
  let triad: TriadHarness;
  beforeAll(async () => {
    triad = await TriadHarness.start({ scenario, executors: 1, env: { TRIAD_MODEL_RATE_LIMIT: '2/1000' } });
    await triad.spawn('planner', 'planner-2', { TRIAD_MODEL_RATE_LIMIT: '2/1000' });
  });
  afterAll(async () => {
    await triad?.stop();
  });

  it('holds two planner replicas together to 2 model calls a second', async () => {
    const ids = await Promise.all(
      [1, 2, 3, 4, 5, 6].map((i) => triad.submit({ goal: 'goal:limited', runId: `rl-limited-${i}` })),
    );
    const runs = await Promise.all(ids.map((id) => triad.waitForRun(id)));
    expect(runs.map((r) => r.status)).toEqual(Array(6).fill('succeeded'));
    const at = plannerCalls(triad, 'limited')
      .map((r) => r.at)
      .sort((a, b) => a - b);
    expect(at).toHaveLength(6);
    // Six calls at two per window need three windows: the fifth call cannot start before the third window opens,
    // at least a full window after the first call's window began.
    expect((at[4] ?? 0) - (at[0] ?? 0)).toBeGreaterThanOrEqual(1000 - 50);
  });
});
