// The keyless gateway (no TRIAD_API_KEYS: every caller is an anonymous admin on 127.0.0.1) as a browser attacker
// would drive it: cross-site "simple" POSTs, a foreign Origin, Sec-Fetch-Site: cross-site, DNS rebinding (a Host that
// is not loopback), guessable approval ids; and a crafted list cursor. A real gateway process over a real Triad.
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Scenario } from '@triad/testing';
import { EffectServer } from './support/effect-server.js';
import { GatewayClient } from './support/gateway-harness.js';
import { acceptedScript } from './support/scripts.js';
import { TriadHarness } from './support/triad-harness.js';

const scenario: Scenario = {
  scripts: [
    acceptedScript('quick', [{ content: 'Done at once.' }]),
    acceptedScript('gated', [
      {
        content: 'Notify.',
        toolCalls: [{ id: 'g1', name: 'post_webhook', arguments: { subject: 'sec', message: 'from the test' } }],
      },
      { content: 'Sent: {{tool:g1.ok}}.' },
    ]),
  ],
};

let triad: TriadHarness;
let gw: GatewayClient;
let effects: EffectServer;
let port: number;

beforeAll(async () => {
  effects = await EffectServer.start();
  triad = await TriadHarness.start({
    scenario,
    executors: 1,
    env: { TRIAD_WEBHOOK_URL: `${effects.url}/hook`, TRIAD_JUDGE_POLICY: 'checks' },
  });
  gw = await GatewayClient.start(triad); // no TRIAD_API_KEYS: keyless, loopback only
  port = Number(new URL(gw.url).port);
});
afterAll(async () => {
  await triad?.stop();
  await effects?.close();
});

interface Answer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: tests inspect the answers' fields directly
  body: any;
}

/** A request with exactly these headers (Host included, which fetch would not let us set), as a browser sends it. */
function raw(method: string, path: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers, setHost: !('host' in headers) }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => {
        text += c;
      });
      res.on('end', () => {
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {}
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const json = { 'content-type': 'application/json' };
const pendingGate = (runId: string) =>
  triad.eventually(
    async () => {
      const r = await gw.call('GET', `/v1/runs/${runId}/approvals`);
      return r.status === 200 && r.body.approvals[0];
    },
    { what: `a pending gate in ${runId}` },
  );
const statusOf = async (runId: string) => (await gw.call('GET', `/v1/runs/${runId}`)).body.status;

describe('keyless gateway: cross-site requests', () => {
  it('refuses a cross-site simple POST (text/plain, foreign Origin) to approve or cancel, and nothing changes', async () => {
    const runId = (await gw.call('POST', '/v1/runs', { body: { goal: 'goal:gated', runId: 'sec-csrf' } })).body.runId;
    const gate = await pendingGate(runId);
    const approvePath = `/v1/runs/${runId}/approvals/${gate.id}/approve`;
    const evil = { origin: 'http://evil.example' };
    const attempts: Array<[string, Record<string, string>, string | undefined, number, string]> = [
      // [path, headers, body, expected status, expected code]
      [approvePath, { ...evil, 'content-type': 'text/plain' }, '{}', 403, 'forbidden'],
      [approvePath, { ...evil, ...json }, '{}', 403, 'forbidden'],
      [approvePath, { 'sec-fetch-site': 'cross-site', ...json }, '{}', 403, 'forbidden'],
      [approvePath, { 'content-type': 'text/plain' }, '{}', 415, 'unsupported_media_type'],
      [approvePath, { 'content-type': 'application/x-www-form-urlencoded' }, 'a=1', 415, 'unsupported_media_type'],
      [`/v1/runs/${runId}/cancel`, { ...evil, 'content-type': 'text/plain' }, 'x', 403, 'forbidden'],
      [`/v1/runs/${runId}/cancel`, { 'sec-fetch-site': 'cross-site' }, undefined, 403, 'forbidden'],
      // A bodiless POST is a simple request too: without keys it must declare JSON like any other.
      [`/v1/runs/${runId}/cancel`, {}, undefined, 415, 'unsupported_media_type'],
      [
        '/v1/runs',
        { 'content-type': 'text/plain' },
        '{"goal":"goal:quick","runId":"sec-csrf-submit"}',
        415,
        'unsupported_media_type',
      ],
    ];
    for (const [path, headers, body, status, code] of attempts) {
      const res = await raw('POST', path, headers, body);
      expect({ path, headers, status: res.status, code: res.body?.error?.code }).toEqual({
        path,
        headers,
        status,
        code,
      });
    }
    // Every refusal has been answered: the gate is still pending, the run still running, no run was submitted.
    expect(
      (await gw.call('GET', `/v1/runs/${runId}/approvals`)).body.approvals.map((a: { id: string }) => a.id),
    ).toEqual([gate.id]);
    expect(await statusOf(runId)).toBe('running');
    expect((await gw.call('GET', '/v1/runs/sec-csrf-submit')).status).toBe(404);

    // The gateway's own origin (its UI, the console) and same-origin fetches still work.
    const own = await raw(
      'POST',
      approvePath,
      { origin: `http://127.0.0.1:${port}`, 'sec-fetch-site': 'same-origin', ...json },
      '{}',
    );
    expect({ status: own.status, decision: own.body.approval?.status }).toEqual({ status: 200, decision: 'approved' });
    await triad.waitForRun(runId);
  });
});

describe('keyless gateway: DNS rebinding', () => {
  it('answers only requests addressed to a loopback name or address', async () => {
    for (const host of ['evil.example', `evil.example:${port}`, `10.0.0.5:${port}`, `127.0.0.1.evil.example:${port}`]) {
      const read = await raw('GET', '/v1/runs', { host });
      expect({ host, status: read.status, code: read.body?.error?.code }).toEqual({
        host,
        status: 403,
        code: 'forbidden',
      });
      const write = await raw('POST', '/v1/runs', { host, ...json }, '{"goal":"goal:quick","runId":"sec-rebind"}');
      expect({ host, status: write.status }).toEqual({ host, status: 403 });
    }
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `127.9.8.7:${port}`, 'localhost']) {
      const read = await raw('GET', '/v1/runs', { host });
      expect({ host, status: read.status }).toEqual({ host, status: 200 });
    }
    expect((await gw.call('GET', '/v1/runs/sec-rebind')).status).toBe(404);
  });
});

describe('approval ids', () => {
  it('are random, not the step id, and only the real id decides the gate', async () => {
    const runId = (await gw.call('POST', '/v1/runs', { body: { goal: 'goal:gated', runId: 'sec-ids' } })).body.runId;
    const gate = await pendingGate(runId);
    expect(gate.stepId).toBe('1-0');
    expect(gate.id).not.toBe(gate.stepId);
    expect(gate.id).toMatch(/[A-Za-z0-9_-]{22}$/); // at least 128 random bits
    // The guessable forms find nothing.
    for (const guess of ['1-0', '1-1', '0-0', `${gate.id.slice(0, -1)}${gate.id.endsWith('A') ? 'B' : 'A'}`]) {
      const res = await gw.call('POST', `/v1/runs/${runId}/approvals/${encodeURIComponent(guess)}/approve`, {
        body: {},
      });
      expect({ guess, status: res.status }).toEqual({ guess, status: 404 });
    }
    const events = await triad.events(runId);
    expect(events.find((e) => e.type === 'approval.requested')).toMatchObject({ approvalId: gate.id, stepId: '1-0' });
    const ok = await gw.call('POST', `/v1/runs/${runId}/approvals/${gate.id}/approve`, { body: {} });
    expect({ status: ok.status, id: ok.body.approval.id }).toEqual({ status: 200, id: gate.id });
    await triad.waitForRun(runId);
    const decided = (await triad.events(runId)).find((e) => e.type === 'approval.decided');
    expect(decided).toMatchObject({ approvalId: gate.id, status: 'approved' });
  });
});

describe('list cursors', () => {
  it('answers a crafted cursor with 400, not 500', async () => {
    const crafted = ['{"o":1e21,"id":"nope"}', '{"o":1e21}', '{"o":9007199254740993,"id":"x"}', '{"o":-1,"id":"x"}'];
    for (const c of crafted) {
      const cursor = Buffer.from(c).toString('base64url');
      const res = await gw.call('GET', `/v1/runs?cursor=${cursor}`);
      expect({ c, status: res.status, code: res.body?.error?.code }).toEqual({
        c,
        status: 400,
        code: 'invalid_request',
      });
    }
  });
});
