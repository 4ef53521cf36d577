// Property-based fuzzing of what other systems send: goal jobs added straight to the `goals` queue, and HTTP
// requests to the gateway. No input may crash a service or vanish: a job is refused with a recorded reason or
// becomes a run that ends; a request gets a 2xx or a 4xx in the API's error shape, never a 5xx.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { GoalRequest, RUN_ID_PATTERN, type RunRecord } from '@triad/shared';
import type { Job } from 'bullmq';
import fc from 'fast-check';
import { GatewayClient } from './support/gateway-harness.js';
import { ACCEPT } from './support/scripts.js';
import { TriadHarness } from './support/triad-harness.js';

const KEY = 'k-fuzz-admin';
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
let triad: TriadHarness;
let gw: GatewayClient;

beforeAll(async () => {
  triad = await TriadHarness.start({
    executors: 1,
    // Every goal that validates is answered at once and accepted, whatever it says.
    scenario: {
      scripts: [
        {
          turnBy: { planner: 'assistantMessages', judge: 'assistantMessages' },
          turns: { planner: [{ content: 'Fuzzed.' }], judge: [ACCEPT] },
        },
      ],
    },
    env: { TRIAD_JUDGE_POLICY: 'always' },
  });
  gw = await GatewayClient.start(triad, { TRIAD_API_KEYS: `fuzz:${KEY}:admin`, TRIAD_MAX_BODY_BYTES: '65536' });
});
afterAll(() => triad?.stop());

/** Goal requests the contract accepts (all fields but `goal` optional; no callbackUrl: nothing to deliver to). */
const validGoal = fc.record(
  {
    goal: fc.string({ minLength: 1, maxLength: 40 }).filter((g) => g.trim().length > 0),
    runId: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,20}$/),
    tools: fc.array(fc.string({ minLength: 1, maxLength: 64 }), { maxLength: 4 }),
    requireApproval: fc.uniqueArray(fc.constantFrom('read', 'write', 'irreversible')),
    approvalTimeoutMs: fc.integer({ min: 1_000, max: 10_000_000 }),
    budget: fc.record(
      {
        maxIterations: fc.integer({ min: 1, max: 5 }),
        maxToolCalls: fc.integer({ min: 0, max: 100 }),
        maxTokens: fc.integer({ min: 1, max: 1_000_000 }),
        maxCostUsd: fc.oneof(fc.constant(null), fc.double({ min: 0.001, max: 10, noNaN: true })),
        timeoutMs: fc.integer({ min: 1_000, max: 600_000 }),
      },
      { requiredKeys: [] },
    ),
    metadata: fc.dictionary(fc.string({ minLength: 1, maxLength: 64 }), fc.string({ maxLength: 100 }), {
      maxKeys: 5,
    }),
  },
  { requiredKeys: ['goal'] },
);
const FIELDS = ['goal', 'runId', 'tools', 'requireApproval', 'approvalTimeoutMs', 'budget', 'metadata', 'callbackUrl'];
/** A valid request with one field (or an unknown one) replaced by any JSON value at all. */
const mutatedGoal = fc
  .tuple(validGoal, fc.oneof(fc.constantFrom(...FIELDS), fc.string()), fc.jsonValue())
  .map(([goal, field, value]) => ({ ...goal, [field]: value }));
const goalLike = fc.oneof(validGoal, mutatedGoal);
const goalData = fc.oneof({ weight: 4, arbitrary: goalLike }, { weight: 1, arbitrary: fc.jsonValue() });
const jobName = fc.oneof({ weight: 5, arbitrary: fc.constant('goal') }, { weight: 1, arbitrary: fc.string() });

/** Gives each string runId a batch-unique prefix, so that two generated jobs never name the same run by chance. */
function isolate(data: unknown, tag: string): unknown {
  if (data && typeof data === 'object' && !Array.isArray(data) && 'runId' in data && typeof data.runId === 'string') {
    return { ...data, runId: `${tag}${data.runId}` };
  }
  return data;
}

function settled(job: Job): Promise<Job> {
  return triad.eventually(
    async () => {
      const state = await job.getState();
      return (
        (state === 'completed' || state === 'failed') && ((await triad.queues.goals.getJob(job.id as string)) as Job)
      );
    },
    { what: `goal job ${job.id} to be completed or failed` },
  );
}

/**
 * What an accepted goal's run must end as: every answer is "Fuzzed." and accepted, so the run succeeds with it,
 * unless a budget the request set ran out first (a token budget below the scripted usage, a short deadline).
 */
function expectAcceptedRunEnded(run: RunRecord, data: unknown): void {
  const request = GoalRequest.parse(data);
  expect(run.request).toEqual(request); // the run carries the request as the contract reads it
  if (run.status === 'budget_exceeded') {
    const limit = run.error?.message.split(':')[0];
    expect({ code: run.error?.code, limit }).toEqual({ code: 'budget_exceeded', limit: expect.any(String) });
    expect(Object.keys(request.budget ?? {})).toContain(limit);
  } else {
    expect(run).toMatchObject({ status: 'succeeded', answer: 'Fuzzed.', error: null });
  }
}

describe('goal jobs on the queue', () => {
  it('are each refused with a recorded reason or run to an end, and no worker dies', async () => {
    const outcomes = { refused: 0, ran: 0 };
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(jobName, goalData), { minLength: 1, maxLength: 12 }), async (batch) => {
        const tag = `f${randomBytes(3).toString('hex')}-`;
        const added = await Promise.all(
          batch.map(([name, data], i) =>
            triad.queues.goals.add(name, isolate(data, tag), { jobId: `${tag}${i}`, attempts: 3 }),
          ),
        );
        for (const job of added.map((j) => settled(j))) {
          const done = await job;
          if (done.finishedOn && done.failedReason) {
            // Refused: once (not retried), with the reason on the job and on a failed run record.
            outcomes.refused++;
            expect(done.attemptsMade).toBe(1);
            const given = (done.data as { runId?: unknown } | null)?.runId;
            const runId = typeof given === 'string' && RUN_ID_PATTERN.test(given) ? given : `rejected-${done.id}`;
            const run = await triad.store.get(runId);
            expect(run).toMatchObject({
              status: 'failed',
              error: { code: 'invalid_goal', message: done.failedReason },
            });
          } else {
            // Accepted: the run it names comes to an end, with the scripted answer or a budget it set.
            outcomes.ran++;
            const { runId } = done.returnvalue as { runId: string };
            expectAcceptedRunEnded(await triad.waitForRun(runId), done.data);
          }
        }
        expect(triad.services.filter((s) => s.child.exitCode !== null).map((s) => s.name)).toEqual([]);
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 30), seed: SEED, endOnFailure: true },
    );
    console.log(`fuzz seed ${SEED}: goal jobs ${JSON.stringify(outcomes)}`);
    // The generator reaches both sides of the contract, or the test proves nothing.
    expect(outcomes.refused).toBeGreaterThan(0);
    expect(outcomes.ran).toBeGreaterThan(0);
  }, 600_000);
});

describe('HTTP requests to the gateway', () => {
  const body = fc.oneof(
    { weight: 3, arbitrary: goalLike.map((g) => JSON.stringify(g)) },
    { weight: 1, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
    { weight: 1, arbitrary: fc.string({ maxLength: 100 }).map((s) => `{"goal": ${s}`) },
    { weight: 1, arbitrary: fc.integer({ min: 65_537, max: 300_000 }).map((n) => `{"goal":"${'x'.repeat(n)}"}`) },
  );
  const contentType = fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', '', 'x/y');
  const path = fc.oneof(
    { weight: 3, arbitrary: fc.constant('/v1/runs') },
    { weight: 1, arbitrary: fc.string({ maxLength: 30 }).map((s) => `/v1/runs/${encodeURIComponent(s)}/cancel`) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.string({ maxLength: 20 }), fc.string({ maxLength: 20 }), fc.constantFrom('approve', 'reject'))
        .map(([r, a, d]) => `/v1/runs/${encodeURIComponent(r)}/approvals/${encodeURIComponent(a)}/${d}`),
    },
  );
  const header = fc.dictionary(fc.constantFrom('idempotency-key', 'last-event-id', 'x-request-id'), fc.string(), {
    maxKeys: 2,
  });

  it('answer every POST with a 2xx or a 4xx that says why, never a 5xx', async () => {
    const statuses: Record<number, number> = {};
    await fc.assert(
      fc.asyncProperty(path, body, contentType, header, async (p, b, type, extra) => {
        const headers: Record<string, string> = { authorization: `Bearer ${KEY}` };
        if (type) headers['content-type'] = type;
        for (const [k, v] of Object.entries(extra)) if (/^[\t\x20-\x7e]*$/.test(v)) headers[k] = v;
        const res = await fetch(`${gw.url}${p}`, { method: 'POST', headers, body: b });
        const text = await res.text();
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        expect(res.status).toBeLessThan(500);
        const answer = JSON.parse(text); // every answer, refusals included, is JSON
        if (res.status >= 400) {
          expect(answer).toMatchObject({ error: { code: expect.any(String), message: expect.any(String) } });
        } else if (p === '/v1/runs') {
          expect({ status: res.status, answer }).toEqual({
            status: 202,
            answer: {
              runId: expect.stringMatching(RUN_ID_PATTERN),
              created: expect.any(Boolean),
              url: `/v1/runs/${answer.runId}`,
            },
          });
        }
      }),
      { numRuns: Number(process.env.FUZZ_HTTP_RUNS ?? 300), seed: SEED, endOnFailure: true },
    );
    console.log(`fuzz seed ${SEED}: HTTP answers by status ${JSON.stringify(statuses)}`);
    expect(statuses[202]).toBeGreaterThan(0);
    expect(statuses[413]).toBeGreaterThan(0);
    const health = await gw.call('GET', '/healthz');
    expect(health.status).toBe(200);
  }, 600_000);
});
