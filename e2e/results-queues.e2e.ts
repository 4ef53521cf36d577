// Results per producer: a goal that names a `resultsQueue` gets its `run.finished` on `results.<tenant>.<name>`,
// not on the shared `results`, so two systems each get exactly their own results (plain BullMQ producers, each its
// own process). A name that could reach another queue is refused at the API (400) and at intake (invalid_goal); the
// tenant part comes from the API key, so a tenant cannot write into another's queue. Results nobody consumes are
// pruned after TRIAD_RUN_RETENTION, and an own queue idle that long is forgotten. Real planner, executor, judge and
// gateway processes on the real Redis.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { RunFinished } from '@triad/shared';
import { type Job, Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { WatchedChild } from './support/child-process.js';
import { GatewayClient } from './support/gateway-harness.js';
import { acceptedScript } from './support/scripts.js';
import { REDIS_URL, TriadHarness } from './support/triad-harness.js';

const RETENTION_MS = 5_000;
const ACME = 'key-acme-0123456789';
const OPS = 'key-ops-0123456789';

let triad: TriadHarness;
let gw: GatewayClient;
const opened: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  triad = await TriadHarness.start({
    scenario: { scripts: [acceptedScript('quick', [{ content: 'Done at once.' }])] },
    executors: 1,
    env: { TRIAD_JUDGE_POLICY: 'checks', TRIAD_RUN_RETENTION: `${RETENTION_MS}ms` },
  });
  gw = await GatewayClient.start(triad, {
    TRIAD_API_KEYS: `ops:${OPS}:admin,acme:${ACME}:submit+read:acme`,
  });
});
afterAll(async () => {
  for (const o of opened) await o.close();
  await triad?.stop();
});

const queue = (name: string) => {
  const q = new Queue(name, { connection: triad.redis, prefix: triad.prefix });
  opened.push(q);
  return q;
};

/** A QueueEvents reader (it blocks its connection, so it gets one of its own): watches a queue without consuming. */
const listen = (name: string) => {
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const events = new QueueEvents(name, { connection, prefix: triad.prefix });
  opened.push(events, { close: async () => void (await connection.quit()) });
  return events;
};

function producer(resultsQueue: string, runIds: string[]): WatchedChild {
  const child = spawn(
    process.execPath,
    ['e2e/fixtures/own-results-producer.mjs', REDIS_URL, triad.prefix, resultsQueue, runIds.join(',')],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return new WatchedChild(child);
}

describe('results per producer', () => {
  it('gives two producers, each with its own results queue, exactly their own run.finished', async () => {
    const a = ['billing-1', 'billing-2', 'billing-3'];
    const b = ['shipping-1', 'shipping-2', 'shipping-3'];
    const [ra, rb] = await Promise.all(
      [producer('billing', a), producer('shipping', b)].map((p, i) =>
        p.exit({ what: `producer ${i} to receive its results`, context: () => triad.serviceLogs() }),
      ),
    );
    for (const [run, ids, name] of [
      [ra, a, 'billing'],
      [rb, b, 'shipping'],
    ] as const) {
      expect({ code: run?.code, stderr: run?.stderr }).toEqual({ code: 0, stderr: '' });
      const jobs = (run?.stdout ?? '')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(jobs.map((j) => j.name)).toEqual(ids.map(() => 'run.finished'));
      const results = jobs.map((j) => RunFinished.parse(j.data));
      expect(results.map((r) => r.runId).sort()).toEqual([...ids].sort());
      expect(results.every((r) => r.status === 'succeeded' && r.metadata.producer === name)).toBe(true);
      expect(jobs.map((j) => j.id).sort()).toEqual(ids.map((id) => `finished-${id}`).sort());
    }
    // Nothing of theirs went to the shared queue.
    for (const id of [...a, ...b]) expect(await triad.queues.results.getJob(`finished-${id}`)).toBeUndefined();
  });

  it("puts an HTTP caller's results in its key's tenant's queue, never another tenant's", async () => {
    const events = listen('results.acme.audit');
    await events.waitUntilReady();
    const added: string[] = [];
    events.on('added', ({ jobId }) => added.push(jobId));
    const res = await gw.call('POST', '/v1/runs', {
      key: ACME,
      body: { goal: 'goal:quick — audit', runId: 'audit-1', resultsQueue: 'audit' },
    });
    expect(res.status).toBe(202);
    // Observed without consuming: QueueEvents sees the job added, and the job is still there for a consumer.
    // (The job id is `finished-<the run's store id>`, as on the shared queue.)
    await triad.eventually(() => added.includes('finished-acme~audit-1'), { what: 'the added event of audit-1' });
    const job = (await queue('results.acme.audit').getJob('finished-acme~audit-1')) as Job;
    expect(RunFinished.parse(job.data)).toMatchObject({ runId: 'audit-1', tenant: 'acme', status: 'succeeded' });
    expect(await queue('results.default.audit').count()).toBe(0);
    expect(await triad.queues.results.getJob('finished-acme~audit-1')).toBeUndefined();
  });

  it.each(['../goals', 'goals:wait', 'acme.audit', '{triad}', 'a~b', '', 'x'.repeat(65)])(
    'refuses the results queue name %j: 400 at the API, invalid_goal from the queue',
    async (name) => {
      const res = await gw.call('POST', '/v1/runs', { key: OPS, body: { goal: 'goal:quick — x', resultsQueue: name } });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
      expect(res.body.error.issues.map((i: { path: string }) => i.path)).toEqual(['resultsQueue']);

      const runId = `hostile-${Buffer.from(name).toString('hex').slice(0, 40)}`;
      await triad.submit({ goal: 'goal:quick — x', runId, resultsQueue: name });
      const run = await triad.waitForRun(runId);
      expect(run.status).toBe('failed');
      expect(run.error).toMatchObject({ code: 'invalid_goal' });
      expect(run.error?.message).toContain('resultsQueue');
      // Published where every rejected goal is: the shared results queue.
      expect((await triad.runFinished(runId)).data).toMatchObject({ runId, status: 'failed' });
    },
  );

  it("sends a rejected goal's result to the producer's own queue when the goal named a valid one", async () => {
    await triad.submit({
      goal: 'goal:quick — x',
      runId: 'bad-budget',
      resultsQueue: 'rejects',
      budget: { maxIterations: 0 },
    });
    const own = queue('results.default.rejects');
    const job = await triad.eventually(() => own.getJob('finished-bad-budget'), { what: 'the rejection on rejects' });
    expect(RunFinished.parse(job.data)).toMatchObject({
      runId: 'bad-budget',
      status: 'failed',
      error: { code: 'invalid_goal', message: expect.stringContaining('budget.maxIterations') },
    });
    expect(await triad.queues.results.getJob('finished-bad-budget')).toBeUndefined();
  });

  it('prunes results nobody consumes after the retention, and forgets an idle own queue', async () => {
    const own = queue('results.default.nobody');
    const events = listen('results.default.nobody');
    await events.waitUntilReady();
    const added: string[] = [];
    events.on('added', ({ jobId }) => added.push(jobId));
    await triad.submit({ goal: 'goal:quick — unread', runId: 'unread-own', resultsQueue: 'nobody' });
    await triad.submit({ goal: 'goal:quick — unread', runId: 'unread-shared' });
    await triad.waitForRun('unread-own');
    await triad.waitForRun('unread-shared');
    await triad.eventually(() => added.includes('finished-unread-own'), { what: 'the result of unread-own' });
    const registry = `${triad.prefix}:results:queues`;
    expect(await triad.redis.zscore(registry, 'results.default.nobody')).not.toBeNull();

    // Nobody consumes either queue: after the retention the planners' sweep removes both waiting results.
    await triad.eventually(
      async () =>
        !(await own.getJob('finished-unread-own')) && !(await triad.queues.results.getJob('finished-unread-shared')),
      { what: 'the unconsumed results to be pruned' },
    );
    expect(await own.getJobCounts('wait', 'completed', 'failed')).toEqual({ wait: 0, completed: 0, failed: 0 });
    await triad.eventually(async () => (await triad.redis.zscore(registry, 'results.default.nobody')) === null, {
      what: 'the idle results queue to be forgotten',
    });
    // Nothing of the queue is left in Redis.
    expect(await triad.redis.keys(`${triad.prefix}:results.default.nobody:*`)).toEqual([]);
  });
});
