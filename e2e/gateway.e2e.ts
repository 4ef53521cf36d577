// The HTTP gateway as its own process in front of a real Triad: submit, idempotency, reads, paging, cancel,
// approvals, API keys and roles, error answers, and a resumable Server-Sent Events stream.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Scenario } from '@triad/testing';
import { EffectServer } from './support/effect-server.js';
import { GatewayClient, readSse } from './support/gateway-harness.js';
import { calc, postWebhook, acceptedScript as script } from './support/scripts.js';
import { TriadHarness } from './support/triad-harness.js';

const hook = (id: string) => postWebhook(id, id, 'from the gateway test');

const scenario: Scenario = {
  scripts: [
    script('quick', [{ content: 'Done at once.' }]),
    script('calc', [
      { content: 'Add.', toolCalls: [calc('c1', '2+3')] },
      { content: 'The sum is {{tool:c1.data.result}}.' },
    ]),
    script('gated', [{ content: 'Notify.', toolCalls: [hook('g1')] }, { content: 'Finished: {{tool:g1.ok}}.' }]),
  ],
};

const KEYS = { admin: 'k-admin-1', submit: 'k-submit-2', read: 'k-read-3', approve: 'k-approve-4' };
let triad: TriadHarness;
let gw: GatewayClient;
let effects: EffectServer;

beforeAll(async () => {
  effects = await EffectServer.start();
  triad = await TriadHarness.start({
    scenario,
    executors: 1,
    env: {
      TRIAD_WEBHOOK_URL: `${effects.url}/hook`,
      TRIAD_JUDGE_POLICY: 'checks', // many runs share a script: no judge turns to run out of
    },
  });
  gw = await GatewayClient.start(triad, {
    TRIAD_API_KEYS: Object.entries(KEYS)
      .map(([role, key]) => `${role}-bot:${key}:${role}`)
      .join(','),
    TRIAD_MAX_BODY_BYTES: '4096',
  });
});
afterAll(async () => {
  await triad?.stop();
  await effects?.close();
});

/** The webhook effects a run's steps applied (the executor sends `<runId>/<stepId>` as the Idempotency-Key). */
const hookEffectsOf = (runId: string) =>
  effects.effectsOn('/hook').filter((e) => e.idempotencyKey?.startsWith(`${runId}/`));
const submit = (body: unknown, headers: Record<string, string> = {}) =>
  gw.call('POST', '/v1/runs', { key: KEYS.submit, body, headers });
const getRun = (id: string) => gw.call('GET', `/v1/runs/${id}`, { key: KEYS.read });
const finished = (id: string) =>
  triad.eventually(
    async () => {
      const r = await getRun(id);
      return r.status === 200 && r.body.status !== 'running' && r.body;
    },
    { what: `GET /v1/runs/${id} to show the run ended` },
  );
const pendingGate = (id: string) =>
  triad.eventually(
    async () => {
      const r = await gw.call('GET', `/v1/runs/${id}/approvals`, { key: KEYS.approve });
      return r.status === 200 && r.body.approvals[0];
    },
    { what: `GET /v1/runs/${id}/approvals to list a pending gate` },
  );

describe('gateway: runs', () => {
  it('accepts a goal with 202, runs it, and serves the run record', async () => {
    const res = await submit({ goal: 'goal:calc', metadata: { team: 'qa' } });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({
      runId: expect.stringMatching(/^run-[0-9a-f-]{36}$/),
      created: true,
      url: `/v1/runs/${res.body.runId}`,
    });
    expect(res.headers.get('location')).toBe(`/v1/runs/${res.body.runId}`);
    const run = await finished(res.body.runId);
    expect(run).toMatchObject({ id: res.body.runId, status: 'succeeded', answer: 'The sum is 5.' });
    expect(run.request.metadata).toEqual({ team: 'qa' });
    expect(await triad.queues.goals.getJob(`goal-${res.body.runId}`)).toBeTruthy();
  });

  it('maps a repeated Idempotency-Key (even with another body) and a repeated runId to the first run', async () => {
    const first = await submit({ goal: 'goal:quick' }, { 'Idempotency-Key': 'order-17' });
    const again = await submit({ goal: 'goal:quick but different' }, { 'Idempotency-Key': 'order-17' });
    expect(first.body.created).toBe(true);
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ runId: first.body.runId, created: false });
    const other = await submit({ goal: 'goal:quick' }, { 'Idempotency-Key': 'order-18' });
    expect(other.body.runId).not.toBe(first.body.runId);

    const byId = await submit({ goal: 'goal:quick', runId: 'gw-given-id' });
    expect(byId.body).toEqual({ runId: 'gw-given-id', created: true, url: '/v1/runs/gw-given-id' });
    await finished('gw-given-id');
    expect((await submit({ goal: 'goal:quick', runId: 'gw-given-id' })).body.created).toBe(false);
    const run = await finished(first.body.runId);
    expect(run.request.goal).toBe('goal:quick');
  });

  it('lists runs newest first, filtered by status, page by page without repeats', async () => {
    const ids = ['gw-list-1', 'gw-list-2', 'gw-list-3'];
    for (const runId of ids) {
      await submit({ goal: 'goal:quick', runId });
      await finished(runId);
    }
    const gated = (await submit({ goal: 'goal:gated', runId: 'gw-list-cancelled' })).body.runId;
    await pendingGate(gated);
    await gw.call('POST', `/v1/runs/${gated}/cancel`, { key: KEYS.submit, body: {} });

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const q: string = `/v1/runs?status=succeeded&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await gw.call('GET', q, { key: KEYS.read });
      expect(page.status).toBe(200);
      expect(page.body.runs.length).toBeLessThanOrEqual(2);
      for (const r of page.body.runs) expect(r.status).toBe('succeeded');
      seen.push(...page.body.runs.map((r: { id: string }) => r.id));
      cursor = page.body.nextCursor;
      pages++;
    } while (cursor && pages < 20);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.filter((id) => ids.includes(id))).toEqual([...ids].reverse()); // newest first
    expect(pages).toBeGreaterThan(1);
    expect(seen).not.toContain(gated);

    const cancelled = await gw.call('GET', '/v1/runs?status=cancelled', { key: KEYS.read });
    expect(cancelled.body.runs.map((r: { id: string }) => r.id)).toEqual([gated]);
    const bad = await gw.call('GET', '/v1/runs?status=nope&limit=0', { key: KEYS.read });
    expect(bad.status).toBe(400);
    expect(bad.body.error.issues.map((i: { path: string }) => i.path).sort()).toEqual(['limit', 'status']);
  });

  it('cancels a running run as the caller, once', async () => {
    const { runId } = (await submit({ goal: 'goal:gated', runId: 'gw-cancel' })).body;
    await pendingGate(runId);
    const res = await gw.call('POST', `/v1/runs/${runId}/cancel`, {
      key: KEYS.submit,
      body: { reason: 'changed my mind' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ runId, cancelled: true, status: 'cancelled' });
    const run = (await getRun(runId)).body;
    expect(run.error.message).toBe('cancelled by submit-bot: changed my mind');
    const again = await gw.call('POST', `/v1/runs/${runId}/cancel`, { key: KEYS.admin });
    expect(again.body).toEqual({ runId, cancelled: false, status: 'cancelled' });
    expect(hookEffectsOf(runId)).toHaveLength(0);
  });
});

describe('gateway: approvals', () => {
  it('lists pending gates and approves one with the key name as the decider', async () => {
    const { runId } = (await submit({ goal: 'goal:gated', runId: 'gw-approve' })).body;
    const gate = await pendingGate(runId);
    expect(gate).toMatchObject({ tool: 'post_webhook', status: 'pending' });
    const all = await gw.call('GET', '/v1/approvals', { key: KEYS.read });
    expect(all.body.approvals.map((a: { runId: string }) => a.runId)).toContain(runId);

    const res = await gw.call('POST', `/v1/runs/${runId}/approvals/${gate.id}/approve`, {
      key: KEYS.approve,
      body: {},
    });
    expect(res.status).toBe(200);
    expect(res.body.approval).toMatchObject({ status: 'approved', decidedBy: 'approve-bot' });
    const twice = await gw.call('POST', `/v1/runs/${runId}/approvals/${gate.id}/reject`, {
      key: KEYS.approve,
      body: { reason: 'too late' },
    });
    expect(twice.status).toBe(409);
    expect(twice.body.error.code).toBe('conflict');
    expect(await finished(runId)).toMatchObject({ status: 'succeeded', answer: 'Finished: true.' });
    expect(hookEffectsOf(runId)).toHaveLength(1);
  });

  it('rejects with a reason, and answers 404 for an unknown approval', async () => {
    const { runId } = (await submit({ goal: 'goal:gated', runId: 'gw-reject' })).body;
    const gate = await pendingGate(runId);
    const missing = await gw.call('POST', `/v1/runs/${runId}/approvals/9-9/approve`, { key: KEYS.approve, body: {} });
    expect(missing.status).toBe(404);
    const noReason = await gw.call('POST', `/v1/runs/${runId}/approvals/${gate.id}/reject`, {
      key: KEYS.approve,
      body: {},
    });
    expect(noReason.status).toBe(400);
    expect(noReason.body.error.issues[0].path).toBe('reason');
    const res = await gw.call('POST', `/v1/runs/${runId}/approvals/${gate.id}/reject`, {
      key: KEYS.approve,
      body: { reason: 'not today' },
    });
    expect(res.body.approval).toMatchObject({ status: 'rejected', decidedBy: 'approve-bot', reason: 'not today' });
    expect(await finished(runId)).toMatchObject({ status: 'succeeded', answer: 'Finished: false.' });
    const decided = (await triad.events(runId)).find((e) => e.type === 'approval.decided');
    expect(decided).toMatchObject({ by: 'approve-bot', status: 'rejected' });
  });
});

describe('gateway: keys and roles', () => {
  const probes: Record<string, { method: string; path: string; body?: unknown }> = {
    submit: { method: 'POST', path: '/v1/runs', body: { goal: 'goal:quick', runId: 'gw-role-probe' } },
    read: { method: 'GET', path: '/v1/runs' },
    approve: { method: 'POST', path: '/v1/runs/gw-role-probe/approvals/9-9/approve', body: {} },
    admin: { method: 'GET', path: '/admin/queues' },
  };
  const allowedStatus: Record<string, number> = { submit: 202, read: 200, approve: 404, admin: 200 };

  it.each(Object.keys(probes))('lets %s keys (and admin) through and refuses the others with 403', async (role) => {
    const probe = probes[role];
    await submit({ goal: 'goal:quick', runId: 'gw-role-probe' }); // so the approval probe finds its run
    await finished('gw-role-probe');
    for (const [keyRole, key] of Object.entries(KEYS)) {
      const res = await gw.call(probe.method, probe.path, { key, body: probe.body });
      const allowed = keyRole === role || keyRole === 'admin';
      expect({ keyRole, status: res.status }).toEqual({ keyRole, status: allowed ? allowedStatus[role] : 403 });
      if (!allowed) expect(res.body.error.code).toBe('forbidden');
    }
  });

  it('needs submit or admin to cancel', async () => {
    await submit({ goal: 'goal:quick', runId: 'gw-role-probe' }); // a run to cancel, whichever test runs first
    await finished('gw-role-probe');
    for (const [key, status] of [
      [KEYS.read, 403],
      [KEYS.approve, 403],
      [KEYS.submit, 200],
    ] as const) {
      expect((await gw.call('POST', '/v1/runs/gw-role-probe/cancel', { key, body: {} })).status).toBe(status);
    }
  });

  it('answers 401 without a key or with a wrong one, and accepts X-API-Key', async () => {
    const none = await gw.call('GET', '/v1/runs');
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe('unauthorized');
    expect((await gw.call('GET', '/v1/runs', { key: 'k-read-3x' })).status).toBe(401);
    expect((await gw.call('GET', '/admin/queues')).status).toBe(401);
    expect((await gw.call('GET', '/v1/runs', { headers: { 'x-api-key': KEYS.read } })).status).toBe(200);
    expect((await gw.call('GET', '/healthz')).status).toBe(200);
    expect((await gw.call('GET', '/readyz')).body.info.redis.status).toBe('up');
  });
});

describe('gateway: bad requests', () => {
  it('answers malformed JSON with 400 and a schema-invalid goal with 400 naming each path', async () => {
    const malformed = await submit('{"goal": ');
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe('invalid_request');
    const invalid = await submit({ goal: '', budget: { maxIterations: 0 }, extra: 1 });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.issues.map((i: { path: string }) => i.path).sort()).toEqual([
      '(root)',
      'budget.maxIterations',
      'goal',
    ]);
  });

  it('answers an oversized body with 413 and an unknown run with 404', async () => {
    const big = await submit({ goal: 'x'.repeat(5000) });
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe('payload_too_large');
    const unknown = await getRun('no-such-run');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('not_found');
    expect((await gw.call('GET', '/v1/runs/no-such-run/events', { key: KEYS.read })).status).toBe(404);
  });

  it('serves an OpenAPI document that describes every route', async () => {
    const doc = (await gw.call('GET', '/openapi.json')).body;
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/v1/approvals',
      '/v1/memories',
      '/v1/memories/search',
      '/v1/memories/{id}',
      '/v1/run-counts',
      '/v1/runs',
      '/v1/runs/{id}',
      '/v1/runs/{id}/approvals',
      '/v1/runs/{id}/approvals/{approvalId}/approve',
      '/v1/runs/{id}/approvals/{approvalId}/reject',
      '/v1/runs/{id}/cancel',
      '/v1/runs/{id}/events',
      '/v1/runs/{id}/fork',
      '/v1/runs/{id}/replay',
      '/v1/tools',
      '/v1/usage',
    ]);
    expect(doc.components.schemas.GoalRequest.required).toEqual(['goal']);
    expect(doc.paths['/v1/runs'].post.operationId).toBe('submitRun');
    expect(doc.servers).toEqual([{ url: '/', description: 'This gateway' }]);
    expect(doc.paths['/v1/runs'].post.responses['429'].headers['Retry-After']).toBeDefined();
    expect((await gw.call('GET', '/docs')).status).toBe(200);
  });
});

describe('gateway: Server-Sent Events', () => {
  it('resumes after a disconnect with Last-Event-ID and delivers every event exactly once, in order', async () => {
    const { runId } = (await submit({ goal: 'goal:gated', runId: 'gw-sse' })).body;
    const url = `${gw.url}/v1/runs/${runId}/events`;
    const auth = { authorization: `Bearer ${KEYS.read}` };
    // Read until the run waits at its gate, then go away mid-run.
    const first = await readSse(url, auth, (m) => m.event === 'approval.requested');
    expect(first.status).toBe(200);
    expect(first.ended).toBe(false);
    const gate = await pendingGate(runId);
    await gw.call('POST', `/v1/runs/${runId}/approvals/${gate.id}/approve`, { key: KEYS.approve, body: {} });
    await finished(runId);

    const lastId = first.messages.at(-1)?.id as string;
    const rest = await readSse(url, { ...auth, 'last-event-id': lastId });
    expect(rest.ended).toBe(true);
    const got = [...first.messages, ...rest.messages];
    const stored = await triad.events(runId);
    const terminal = stored.findIndex((e) => e.type === 'status.changed' && e.to !== 'running');
    expect(got.map((m) => m.id)).toEqual(stored.slice(0, terminal + 1).map((e) => e.id));
    expect(got.map((m) => m.event)).toEqual(stored.slice(0, terminal + 1).map((e) => e.type));
    expect(JSON.parse(got.at(-1)?.data as string)).toMatchObject({ type: 'status.changed', to: 'succeeded' });

    // The query form of Last-Event-ID, for clients that cannot set headers.
    const tail = await readSse(`${url}?lastEventId=${stored[terminal - 1].id}`, auth);
    expect(tail.messages.map((m) => m.id)).toEqual([stored[terminal].id]);
  });
});
