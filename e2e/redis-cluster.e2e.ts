// Triad on a real Redis Cluster started by the test (3 masters, a replica each): planner, executors, judge and the
// gateway run through ioredis' cluster client with a hash-tagged prefix. The whole loop, an approval and a
// cancellation through the gateway, a result webhook; then the master of the queues' slot is killed while runs are
// in flight: its replica takes over and every run ends, each side effect applied once.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ownKeyPrefix } from '@triad/shared';
import type { Scenario } from '@triad/testing';
import { RedisCluster } from '../cli/src/stack/redis-cluster.js';
import { REPO_ROOT } from '../cli/src/stack/service-processes.js';
import { WatchedChild } from './support/child-process.js';
import { EffectServer } from './support/effect-server.js';
import { GatewayClient } from './support/gateway-harness.js';
import { ACCEPT, acceptedScript, httpPost, postWebhook } from './support/scripts.js';
import { TriadHarness } from './support/triad-harness.js';

/** Runs in flight when the master is killed. */
const RUNS = 8;
/** Tool calls per load run, by Idempotency-Key suffix: two parallel calls in iteration 1, one in iteration 2. */
const STEPS = ['1-0', '1-1', '2-0'];

let cluster: RedisCluster;
let effects: EffectServer;
let triad: TriadHarness;
let gw: GatewayClient;

beforeAll(async () => {
  cluster = await RedisCluster.start(clusterPorts());
  effects = await EffectServer.start();
  const post = (id: string, what: string) => httpPost(id, `${effects.url}/${what}`, `{"what":"${what}"}`);
  const scenario: Scenario = {
    scripts: [
      acceptedScript('quick', [{ content: 'All done.' }]),
      acceptedScript('gated', [
        { content: 'Notify.', toolCalls: [postWebhook('w', 'deploy')] },
        { content: 'Notified: {{tool:w.ok}}.' },
      ]),
      {
        ...acceptedScript(
          'load',
          [
            { content: 'Reserve and notify.', toolCalls: [post('a', 'reserve'), post('b', 'notify')], delayMs: 200 },
            { content: 'Then charge.', toolCalls: [post('c', 'charge')], delayMs: 200 },
            { content: 'Reserved {{tool:a.data.status}}, charged {{tool:c.data.status}}.' },
          ],
          [ACCEPT],
        ),
        turnBy: { planner: 'assistantMessages', judge: 'assistantMessages' },
      },
    ],
  };
  triad = await TriadHarness.start({
    scenario,
    executors: 2,
    redisCluster: cluster.seeds,
    env: {
      TRIAD_JUDGE_POLICY: 'checks',
      TRIAD_JOB_ATTEMPTS: '8',
      TRIAD_HTTP_ALLOW_HOSTS: '127.0.0.1',
      TRIAD_WEBHOOK_URL: `${effects.url}/hook`,
      TRIAD_WEBHOOK_ALLOW_HOSTS: '127.0.0.1',
      TRIAD_WEBHOOK_BACKOFF_MS: '200',
    },
  });
  gw = await GatewayClient.start(triad);
}, 180_000);

afterAll(async () => {
  await triad?.stop();
  await effects?.close();
  await cluster?.stop();
}, 60_000);

const submit = async (body: Record<string, unknown>) => {
  const res = await gw.call('POST', '/v1/runs', { body });
  expect(res.status).toBe(202);
  return res.body.runId as string;
};
const ended = (runId: string, timeoutMs?: number) =>
  triad.eventually(
    async () => {
      const r = await gw.call('GET', `/v1/runs/${runId}`);
      return r.status === 200 && r.body.status !== 'running' && r.body;
    },
    { what: `GET /v1/runs/${runId} to show the run ended`, timeoutMs },
  );
const pendingGate = (runId: string) =>
  triad.eventually(
    async () => {
      const r = await gw.call('GET', `/v1/runs/${runId}/approvals`);
      return r.status === 200 && r.body.approvals[0];
    },
    { what: `a pending gate of run ${runId} through the gateway` },
  );

describe('on a Redis Cluster', () => {
  it('runs the whole loop to a succeeded run, listed and streamed by the gateway', async () => {
    const runId = await submit({ goal: 'goal:quick', runId: 'cl-quick' });
    expect(await ended(runId)).toMatchObject({ status: 'succeeded', answer: 'All done.' });
    const listed = await gw.call('GET', '/v1/runs?limit=50');
    expect(listed.body.runs.map((r: { id: string }) => r.id)).toContain(runId);
    const events = await fetch(`${gw.url}/v1/runs/${runId}/events`).then((r) => r.text());
    expect(events).toContain('"to":"succeeded"');
  });

  it('approves a gated step through the gateway; the effect happens once', async () => {
    const runId = await submit({ goal: 'goal:gated', runId: 'cl-approve' });
    const gate = await pendingGate(runId);
    expect(gate).toMatchObject({ tool: 'post_webhook', status: 'pending' });
    const all = await gw.call('GET', '/v1/approvals');
    expect(all.body.approvals.map((a: { runId: string }) => a.runId)).toContain(runId);
    const res = await gw.call('POST', `/v1/runs/${runId}/approvals/${gate.id}/approve`, { body: {} });
    expect(res.status).toBe(200);
    expect(await ended(runId)).toMatchObject({ status: 'succeeded', answer: 'Notified: true.' });
    expect(effects.effectsOn('/hook').filter((e) => e.idempotencyKey?.startsWith(`${runId}/`))).toHaveLength(1);
    expect((await gw.call('GET', '/v1/approvals')).body.approvals).toEqual([]);
  });

  it('cancels a run waiting at a gate through the gateway', async () => {
    const runId = await submit({ goal: 'goal:gated', runId: 'cl-cancel' });
    await pendingGate(runId);
    const res = await gw.call('POST', `/v1/runs/${runId}/cancel`, { body: { reason: 'changed my mind' } });
    expect(res.body).toMatchObject({ cancelled: true, status: 'cancelled' });
    expect(await ended(runId)).toMatchObject({ status: 'cancelled' });
    expect(effects.effectsOn('/hook').filter((e) => e.idempotencyKey?.startsWith(`${runId}/`))).toEqual([]);
    expect((await gw.call('GET', `/v1/runs/${runId}/approvals`)).body.approvals).toEqual([]);
  });

  it('POSTs the result webhook of a finished run to its callbackUrl', async () => {
    const runId = await submit({ goal: 'goal:quick', runId: 'cl-webhook', callbackUrl: `${effects.url}/result` });
    await ended(runId);
    await triad.eventually(async () => (await triad.events(runId)).find((e) => e.type === 'webhook.delivered'), {
      what: `the webhook of ${runId} delivered`,
    });
    const [delivery] = effects.requestsTo('/result');
    expect(JSON.parse(delivery?.body ?? '{}')).toMatchObject({ runId, status: 'succeeded', answer: 'All done.' });
  });

  it("keeps, finds and removes a tenant's memories through the gateway (the memory scripts on one slot per tenant)", async () => {
    const texts = [
      'Invoices of the billing API are due in 30 days.',
      'The room booking API wants dates as YYYY-MM-DD.',
    ];
    const ids: string[] = [];
    for (const text of texts) {
      const created = await gw.call('POST', '/v1/memories', { body: { text, kind: 'fact', tags: ['cluster'] } });
      expect(created.status).toBe(201);
      ids.push(created.body.memory.id);
    }
    const search = (query: string) =>
      gw.call('POST', '/v1/memories/search', { body: { query, k: 2, tags: ['cluster'] } });
    const found = await search('when are the invoices of the billing API due');
    expect(found.status).toBe(200);
    expect(found.body.matches.map((m: { entry: { id: string } }) => m.entry.id)).toEqual([ids[0], ids[1]]);
    const listed = await gw.call('GET', '/v1/memories?tags=cluster');
    expect(listed.body.memories.map((m: { id: string }) => m.id)).toEqual([ids[1], ids[0]]);
    // Keyless, a state change must say it is JSON (see cross-site.middleware.ts).
    const json = { 'content-type': 'application/json' };
    expect((await gw.call('DELETE', `/v1/memories/${ids[0]}`, { headers: json })).status).toBe(204);
    const after = await search('when are the invoices of the billing API due');
    expect(after.body.matches.map((m: { entry: { id: string } }) => m.entry.id)).toEqual([ids[1]]);
  });

  it('runs `triad start` (the offline demo) on the cluster, starting no Redis of its own', async () => {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      TRIAD_REDIS_CLUSTER: cluster.seeds,
      TRIAD_PREFIX: `{start${randomBytes(3).toString('hex')}}`,
    };
    // A process group, so that a run that has to be given up on is stopped with every service it started.
    const child = spawn(process.execPath, ['cli/dist/start.js'], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const { code, stdout } = await new WatchedChild(child, { group: true }).exit({
      what: 'triad start to end',
      timeoutMs: 180_000,
    });
    expect({ code, stdout }).toMatchObject({ code: 0 });
    expect(stdout).toContain(`using the Redis Cluster at ${cluster.seeds}`);
    expect(stdout).toMatch(/Answer: Porto has the highest population density/);
  }, 200_000);

  // Where the killed master held a worker's blocking read, BullMQ's watchdog resets that connection, sometimes while the
  // cluster still reports cluster_state:fail; the workers must go on taking jobs after it (see redis-connection.ts).
  it('ends every run, each side effect once, when the master of the queues fails over to its replica', async () => {
    const runIds = Array.from({ length: RUNS }, (_, i) => `cl-load-${i}`);
    for (const runId of runIds) await triad.submit({ goal: 'goal:load', runId });
    // The runs' records spread over the masters (they hash on the run); the queues share the prefix's slot.
    const own = ownKeyPrefix(triad.prefix);
    const homes = await Promise.all(runIds.map((id) => cluster.masterOf(`${own}:run:{${id}}`)));
    expect(new Set(homes.map((n) => n.port)).size).toBeGreaterThan(1);

    // Under load: remote calls are in flight when the master goes.
    await triad.eventually(() => effects.requests.length >= 2 && effects.requests.length < RUNS * STEPS.length, {
      what: 'the first remote calls of the load runs',
      intervalMs: 10,
    });
    const master = await cluster.masterOf(`${triad.prefix}:goals`);
    const replica = await cluster.replicaOf(master);
    const inFlight = (await Promise.all(runIds.map((id) => triad.store.get(id)))).filter(
      (r) => r?.status !== 'succeeded',
    );
    cluster.kill(master);
    const killedAt = Date.now();
    await cluster.waitForTakeover(replica);
    console.log(
      `killed master ${master.port} with ${inFlight.length} of ${RUNS} runs in flight; replica ${replica.port} ` +
        `took over in ${Date.now() - killedAt} ms`,
    );
    expect(inFlight.length).toBeGreaterThanOrEqual(1);
    expect((await cluster.masterOf(`${triad.prefix}:goals`)).port).toBe(replica.port);

    const runs = await Promise.all(runIds.map((id) => triad.waitForRun(id, 120_000))).catch(async (err) => {
      console.log(`stuck after the failover:\n${await stuck(runIds)}`);
      throw err;
    });
    expect(runs.filter((r) => r.status !== 'succeeded').map((r) => [r.id, r.status, r.error?.message])).toEqual([]);
    expect(new Set(runs.map((r) => r.answer))).toEqual(new Set(['Reserved 200, charged 200.']));

    // Each tool call carried one key however often it was sent, so each effect happened once.
    const expected = runIds.flatMap((id) => STEPS.map((s) => `${id}/${s}`));
    const loadCalls = effects.requests.filter((r) => /^cl-load-/.test(r.idempotencyKey ?? ''));
    expect(new Set(loadCalls.map((r) => r.idempotencyKey))).toEqual(new Set(expected));
    expect([...effects.effects.keys()].filter((k) => k.startsWith('cl-load-')).sort()).toEqual(expected.sort());
    for (const runId of runIds) {
      const steps = (await triad.events(runId)).flatMap((e) => (e.type === 'observation' ? [e.stepId] : []));
      expect({ runId, steps: steps.sort() }).toEqual({ runId, steps: STEPS });
    }
    for (const s of triad.services) expect(s.output()).not.toMatch(/unhandled|uncaught/i);
  }, 400_000);
});

/** The ports the test's cluster may use: TRIAD_E2E_CLUSTER_PORTS=from-to (e.g. `7200-7299`), else the stack's default. */
function clusterPorts(): { from?: number; to?: number } {
  const [from, to] = (process.env.TRIAD_E2E_CLUSTER_PORTS ?? '').split('-').map(Number);
  return from && to ? { from, to } : {};
}

/** Where each unfinished run is, and the jobs the queues hold for it: what a failed failover left behind. */
async function stuck(runIds: string[]): Promise<string> {
  const lines: string[] = [];
  const states = ['waiting', 'active', 'delayed', 'waiting-children', 'prioritized', 'failed', 'completed'] as const;
  const jobs = [];
  for (const name of ['goals', 'plan', 'act', 'judge'] as const) {
    for (const state of states) {
      for (const job of await triad.queues[name].getJobs([state])) jobs.push({ name, state, job });
    }
  }
  for (const id of runIds) {
    const pos = await triad.store.position(id);
    if (pos.status !== 'running') continue;
    const mine = jobs.filter((j) => JSON.stringify(j.job.data ?? {}).includes(id) || (j.job.id ?? '').includes(id));
    lines.push(
      `${id}: ${pos.status} iteration ${pos.iteration} ${pos.phase}; jobs ${mine.map((j) => `${j.name}/${j.job.id}:${j.state}`).join(' ')}`,
    );
  }
  return lines.join('\n');
}
