// Two tenants on one fleet, driven as an attacker with the other tenant's key would: cross-tenant reads, streams,
// cancels, listings and approval decisions are 404 (worded as for a run that does not exist); the same runId and
// Idempotency-Key in both tenants make two runs that never touch each other; the memory tools' widest scope is the
// tenant; an admin key acts for a tenant only when it names it. Real gateway, planner, executor and judge processes.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Scenario } from '@triad/testing';
import { EffectServer } from './support/effect-server.js';
import { GatewayClient, readSse } from './support/gateway-harness.js';
import { acceptedScript, postWebhook } from './support/scripts.js';
import { TriadHarness } from './support/triad-harness.js';

const scenario: Scenario = {
  scripts: [
    acceptedScript('quick', [{ content: 'Done at once.' }]),
    acceptedScript('gated', [{ content: 'Notify.', toolCalls: [postWebhook('g1', 'tenants')] }, { content: 'Sent.' }]),
    acceptedScript('mem-write', [
      {
        content: 'Note it.',
        toolCalls: [
          { id: 'w', name: 'remember', arguments: { key: 'lesson', value: 'acme-only-lesson', scope: 'global' } },
        ],
      },
      { content: 'Noted.' },
    ]),
    acceptedScript('mem-read', [
      {
        content: 'Look it up.',
        toolCalls: [{ id: 'r', name: 'recall', arguments: { key: 'lesson', scope: 'global' } }],
      },
      { content: 'Recalled: {{tool:r}}' },
    ]),
  ],
};

const KEYS = {
  acme: 'key-acme-0123456789',
  globex: 'key-globex-0123456789',
  globexReader: 'key-globex-read-0123456789',
  admin: 'key-admin-0123456789',
};

let triad: TriadHarness;
let gw: GatewayClient;
let effects: EffectServer;

beforeAll(async () => {
  effects = await EffectServer.start();
  triad = await TriadHarness.start({
    scenario,
    executors: 1,
    env: { TRIAD_WEBHOOK_URL: `${effects.url}/hook`, TRIAD_JUDGE_POLICY: 'checks' },
  });
  gw = await GatewayClient.start(triad, {
    TRIAD_API_KEYS: [
      `acme-app:${KEYS.acme}:submit+read+approve:acme`,
      `globex-app:${KEYS.globex}:submit+read+approve:globex`,
      `globex-viewer:${KEYS.globexReader}:read:globex`,
      `ops:${KEYS.admin}:admin`,
    ].join(','),
  });
});
afterAll(async () => {
  await triad?.stop();
  await effects?.close();
});

const as = (key: string, headers: Record<string, string> = {}) => ({
  get: (path: string) => gw.call('GET', path, { key, headers }),
  post: (path: string, body: unknown = {}, extra: Record<string, string> = {}) =>
    gw.call('POST', path, { key, body, headers: { ...headers, ...extra } }),
});
const acme = as(KEYS.acme);
const globex = as(KEYS.globex);

/** Polls a run through the API (as `caller`) until it has ended. */
const finished = (caller: ReturnType<typeof as>, runId: string) =>
  triad.eventually(
    async () => {
      const r = await caller.get(`/v1/runs/${runId}`);
      return r.status === 200 && r.body.status !== 'running' && r.body;
    },
    { what: `run ${runId} to end` },
  );

describe('tenants', () => {
  it('make the same runId in two tenants two runs, each with its own goal, id and tenant', async () => {
    const a = await acme.post('/v1/runs', { goal: 'goal:quick', runId: 'same-id', metadata: { owner: 'acme' } });
    const b = await globex.post('/v1/runs', { goal: 'goal:quick', runId: 'same-id', metadata: { owner: 'globex' } });
    expect([a.status, a.body.created, b.status, b.body.created]).toEqual([202, true, 202, true]);
    const [ra, rb] = [await finished(acme, 'same-id'), await finished(globex, 'same-id')];
    expect([ra.id, ra.tenant, ra.status, ra.request.metadata.owner]).toEqual(['same-id', 'acme', 'succeeded', 'acme']);
    expect([rb.id, rb.tenant, rb.status, rb.request.metadata.owner]).toEqual([
      'same-id',
      'globex',
      'succeeded',
      'globex',
    ]);
    // run.finished on the results queue names the caller's run id and the tenant.
    const done = await triad.runFinished('acme~same-id');
    expect([done.data.runId, done.data.tenant, done.data.metadata.owner]).toEqual(['same-id', 'acme', 'acme']);
    // A repeat inside a tenant is still the same run.
    const again = await acme.post('/v1/runs', { goal: 'goal:quick', runId: 'same-id' });
    expect([again.status, again.body.created]).toEqual([202, false]);
  });

  it("keep Idempotency-Keys per tenant: the other tenant's key never returns the first tenant's run", async () => {
    const first = await acme.post('/v1/runs', { goal: 'goal:quick' }, { 'idempotency-key': 'idem-shared' });
    const other = await globex.post('/v1/runs', { goal: 'goal:quick' }, { 'idempotency-key': 'idem-shared' });
    const repeat = await acme.post('/v1/runs', { goal: 'goal:quick' }, { 'idempotency-key': 'idem-shared' });
    expect([first.body.created, other.body.created, repeat.body.created]).toEqual([true, true, false]);
    expect(other.body.runId).not.toBe(first.body.runId);
    expect(repeat.body.runId).toBe(first.body.runId);
    expect((await finished(globex, other.body.runId)).request.goal).toBe('goal:quick');
    expect((await globex.get(`/v1/runs/${first.body.runId}`)).status).toBe(404);
  });

  it("answer 404 for another tenant's run on every route, worded as for a run that does not exist", async () => {
    const runId = (await acme.post('/v1/runs', { goal: 'goal:gated', runId: 'acme-gated' })).body.runId;
    const [gate] = await triad.pendingApprovals('acme~acme-gated');
    const attempts = (id: string, approvalId: string) => [
      globex.get(`/v1/runs/${id}`),
      globex.get(`/v1/runs/${id}/approvals`),
      globex.post(`/v1/runs/${id}/cancel`, { reason: 'not yours' }),
      globex.post(`/v1/runs/${id}/approvals/${approvalId}/approve`, {}),
      globex.post(`/v1/runs/${id}/approvals/${approvalId}/reject`, { reason: 'not yours' }),
      globex.get(`/v1/runs/${id}/events`),
    ];
    const foreign = await Promise.all(attempts(runId, gate.id));
    const missing = await Promise.all(attempts('no-such-run', gate.id));
    for (const [i, res] of foreign.entries()) {
      expect(res.status).toBe(404);
      expect(JSON.stringify(res.body).replaceAll(runId, 'X')).toBe(
        JSON.stringify(missing[i].body).replaceAll('no-such-run', 'X'),
      );
    }
    // Nothing leaks through listings and inboxes either.
    expect((await globex.get('/v1/runs?limit=200')).body.runs.map((r: { id: string }) => r.id)).not.toContain(runId);
    expect((await globex.get('/v1/approvals')).body.approvals).toEqual([]);
    const inbox = (await acme.get('/v1/approvals')).body.approvals;
    expect(inbox.map((a: { runId: string; id: string }) => [a.runId, a.id])).toEqual([[runId, gate.id]]);
    // The gate is untouched and the run still running: its own tenant approves and it goes on.
    expect((await acme.get(`/v1/runs/${runId}`)).body.status).toBe('running');
    const approved = await acme.post(`/v1/runs/${runId}/approvals/${gate.id}/approve`, {});
    expect([approved.status, approved.body.approval.runId, approved.body.approval.decidedBy]).toEqual([
      200,
      runId,
      'acme-app',
    ]);
    expect((await finished(acme, runId)).status).toBe('succeeded');
    expect(effects.requestsTo('/hook')).toHaveLength(1);
  });

  it("stream a run's events to its own tenant only", async () => {
    const runId = (await acme.post('/v1/runs', { goal: 'goal:quick', runId: 'acme-stream' })).body.runId;
    await finished(acme, runId);
    const own = await readSse(`${gw.url}/v1/runs/${runId}/events`, { authorization: `Bearer ${KEYS.acme}` });
    expect(own.status).toBe(200);
    expect(own.messages.map((m) => m.event)).toContain('verdict');
    const other = await readSse(`${gw.url}/v1/runs/${runId}/events`, { authorization: `Bearer ${KEYS.globexReader}` });
    expect(other.status).toBe(404);
  });

  it("share the memory tools' global scope within a tenant, never across tenants", async () => {
    await acme.post('/v1/runs', { goal: 'goal:mem-write', runId: 'mem-write' });
    expect((await finished(acme, 'mem-write')).status).toBe('succeeded');
    await acme.post('/v1/runs', { goal: 'goal:mem-read', runId: 'mem-read' });
    await globex.post('/v1/runs', { goal: 'goal:mem-read', runId: 'mem-read' });
    const [own, other] = [await finished(acme, 'mem-read'), await finished(globex, 'mem-read')];
    expect(own.answer).toContain('acme-only-lesson');
    expect(other.status).toBe('succeeded');
    expect(other.answer).toContain('"entries":[]');
    expect(other.answer).not.toContain('acme-only-lesson');
  });

  it('let an admin key act for a tenant it names, and no other key', async () => {
    const runId = (await acme.post('/v1/runs', { goal: 'goal:quick', runId: 'acme-admin-view' })).body.runId;
    await finished(acme, runId);
    expect((await as(KEYS.admin).get(`/v1/runs/${runId}`)).status).toBe(404); // the admin's own tenant: default
    const viaHeader = await as(KEYS.admin, { 'x-triad-tenant': 'acme' }).get(`/v1/runs/${runId}`);
    expect([viaHeader.status, viaHeader.body.tenant]).toEqual([200, 'acme']);
    const impersonate = await as(KEYS.globex, { 'x-triad-tenant': 'acme' }).get(`/v1/runs/${runId}`);
    expect([impersonate.status, impersonate.body.error.code]).toEqual([403, 'forbidden']);
    const own = await as(KEYS.globex, { 'x-triad-tenant': 'globex' }).get('/v1/runs');
    expect(own.status).toBe(200);
    const bad = await as(KEYS.admin, { 'x-triad-tenant': 'Not A Tenant' }).get('/v1/runs');
    expect([bad.status, bad.body.error.code]).toEqual([400, 'invalid_request']);
  });

  it("refuse a goal that names another tenant than the key's", async () => {
    const res = await acme.post('/v1/runs', { goal: 'goal:quick', runId: 'smuggled', tenant: 'globex' });
    expect([res.status, res.body.error.code]).toEqual([403, 'forbidden']);
    expect((await globex.get('/v1/runs/smuggled')).status).toBe(404);
    expect((await acme.get('/v1/runs/smuggled')).status).toBe(404);
  });

  it("take a queue producer's tenant as given, and show the run to that tenant", async () => {
    const storeId = await triad.submit({ goal: 'goal:quick', runId: 'from-queue', tenant: 'globex' });
    expect(storeId).toBe('globex~from-queue');
    const run = await finished(globex, 'from-queue');
    expect([run.id, run.tenant, run.status]).toEqual(['from-queue', 'globex', 'succeeded']);
    expect((await acme.get('/v1/runs/from-queue')).status).toBe(404);
    expect((await triad.runFinished(storeId)).data).toMatchObject({ runId: 'from-queue', tenant: 'globex' });
  });
});
