// Server-Sent Event streams of the gateway under load and at their edges, a real gateway process over a real Triad
// and a real Redis: open streams share the gateway's Redis connections (counted with CLIENT LIST), concurrent streams
// are capped per API key and per gateway (429), a Last-Event-ID Redis cannot read is a 400, and a followed stream
// shows the result webhook's outcome after the run's end (the `triad` CLI included).
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { isTerminal } from '@triad/shared';
import type { Scenario } from '@triad/testing';
import { REPO_ROOT } from '../cli/src/stack/service-processes.js';
import { EffectServer } from './support/effect-server.js';
import { GatewayClient, readSse } from './support/gateway-harness.js';
import { acceptedScript } from './support/scripts.js';
import { TriadHarness } from './support/triad-harness.js';

const scenario: Scenario = {
  scripts: [
    acceptedScript('quick', [{ content: 'Done at once.' }]),
    acceptedScript('gated', [
      {
        content: 'Notify.',
        toolCalls: [{ id: 'g1', name: 'post_webhook', arguments: { subject: 'sse', message: 'from the test' } }],
      },
      { content: 'Sent: {{tool:g1.ok}}.' },
    ]),
  ],
};

const KEYS = { a: 'k-read-a', b: 'k-read-b', admin: 'k-admin' };
const PER_KEY = 20;
const MAX = 30;
let triad: TriadHarness;
let gw: GatewayClient;
let effects: EffectServer;

beforeAll(async () => {
  effects = await EffectServer.start();
  // The receiver drops every delivery to /fail: with one attempt, that webhook fails for good at once.
  effects.onRequest = (r) => {
    if (r.path === '/fail') throw new Error('dropped');
  };
  triad = await TriadHarness.start({
    scenario,
    executors: 1,
    env: {
      TRIAD_WEBHOOK_URL: `${effects.url}/hook`,
      TRIAD_JUDGE_POLICY: 'checks',
      TRIAD_WEBHOOK_ATTEMPTS: '1',
      TRIAD_WEBHOOK_ALLOW_HOSTS: '127.0.0.1', // result webhooks to this test's loopback receiver
    },
  });
  gw = await GatewayClient.start(triad, {
    TRIAD_API_KEYS: `reader-a:${KEYS.a}:read,reader-b:${KEYS.b}:read,ops:${KEYS.admin}:admin`,
    TRIAD_SSE_MAX_PER_KEY: String(PER_KEY),
    TRIAD_SSE_MAX: String(MAX),
    TRIAD_SSE_KEEPALIVE_MS: '300',
  });
});
afterAll(async () => {
  await triad?.stop();
  await effects?.close();
});

/** An SSE response held open: its raw text so far (keep-alive comments included), and a way to hang up. */
interface OpenStream {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: tests inspect the answers' fields directly
  body: any;
  text: () => string;
  close: () => void;
}

async function open(runId: string, key: string, headers: Record<string, string> = {}): Promise<OpenStream> {
  const abort = new AbortController();
  const res = await fetch(`${gw.url}/v1/runs/${runId}/events`, {
    headers: { accept: 'text/event-stream', authorization: `Bearer ${key}`, ...headers },
    signal: abort.signal,
  });
  if (res.status !== 200 || !res.body) {
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {}
    return { status: res.status, body, text: () => text, close: () => {} };
  }
  let text = '';
  const decoder = new TextDecoder();
  void (async () => {
    try {
      for await (const chunk of res.body as ReadableStream<Uint8Array>) text += decoder.decode(chunk, { stream: true });
    } catch {} // aborted by close()
  })();
  return { status: 200, body: null, text: () => text, close: () => abort.abort() };
}

/** Redis clients of the gateway process, by connection name (the services name every connection they open). */
async function gatewayClients(): Promise<string[]> {
  const list = (await triad.redis.client('LIST')) as string;
  return list
    .split('\n')
    .map((line) => /(?:^| )name=(\S*)/.exec(line)?.[1] ?? '')
    .filter((name) => name.startsWith('triad-gateway'));
}

const keepAlives = (s: OpenStream) => s.text().split(': keep-alive').length - 1;
const pendingGate = (runId: string) =>
  triad.eventually(
    async () => {
      const r = await gw.call('GET', `/v1/runs/${runId}/approvals`, { key: KEYS.admin });
      return r.status === 200 && r.body.approvals[0];
    },
    { what: `a pending gate in ${runId}` },
  );

describe('event streams: Redis connections and caps', () => {
  it('serve many open streams over the same Redis connections, and cap them per key and per gateway with 429', async () => {
    const runId = 'sse-many';
    await gw.call('POST', '/v1/runs', { key: KEYS.admin, body: { goal: 'goal:gated', runId } });
    const gate = await pendingGate(runId); // the run waits at its gate: every stream stays open

    // Streams have waited for new events in Redis (a keep-alive follows a wait that timed out).
    const waited = (streams: OpenStream[]) =>
      triad.eventually(() => streams.every((s) => keepAlives(s) >= 2), { what: 'keep-alives on every stream' });
    const first = await open(runId, KEYS.a);
    expect(first.status).toBe(200);
    await waited([first]);
    const withOne = (await gatewayClients()).sort();

    const streams = [first];
    for (let i = 1; i < PER_KEY; i++) streams.push(await open(runId, KEYS.a));
    expect(streams.map((s) => s.status)).toEqual(Array(PER_KEY).fill(200));
    await waited(streams);
    expect((await gatewayClients()).sort()).toEqual(withOne);

    // One key past its cap: 429 in the error shape; another key still gets in, up to the gateway's cap.
    const overKey = await open(runId, KEYS.a);
    expect({ status: overKey.status, code: overKey.body?.error?.code }).toEqual({
      status: 429,
      code: 'too_many_requests',
    });
    const others: typeof streams = [];
    for (let i = 0; i < MAX - PER_KEY; i++) others.push(await open(runId, KEYS.b));
    expect(others.map((s) => s.status)).toEqual(Array(MAX - PER_KEY).fill(200));
    const overGateway = await open(runId, KEYS.b);
    expect({ status: overGateway.status, code: overGateway.body?.error?.code }).toEqual({
      status: 429,
      code: 'too_many_requests',
    });
    await waited(others);
    expect((await gatewayClients()).sort()).toEqual(withOne);

    // A stream that goes away frees its place.
    streams.pop()?.close();
    const again = await triad.eventually(
      async () => {
        const s = await open(runId, KEYS.a);
        return s.status === 200 ? s : false;
      },
      { what: 'a place freed by a closed stream' },
    );
    streams.push(again);

    // Every open stream still gets the run's next events, through the shared reader.
    await gw.call('POST', `/v1/runs/${runId}/approvals/${gate.id}/approve`, { key: KEYS.admin, body: {} });
    await triad.waitForRun(runId);
    await triad.eventually(
      () => [...streams, ...others].every((s) => /event: status\.changed\ndata: [^\n]*"to":"succeeded"/.test(s.text())),
      { what: 'the end of the run on every stream' },
    );
    for (const s of [...streams, ...others]) s.close();
  });
});

describe('event streams: Last-Event-ID', () => {
  it('answers an id that Redis cannot read with 400, header or query', async () => {
    const runId = await triad.submit({ goal: 'goal:quick', runId: 'sse-last-id' });
    await triad.waitForRun(runId);
    for (const id of ['18446744073709551616-0', '1-18446744073709551616', '99999999999999999999999-1']) {
      const byHeader = await open(runId, KEYS.a, { 'last-event-id': id });
      expect({ id, status: byHeader.status, code: byHeader.body?.error?.code }).toEqual({
        id,
        status: 400,
        code: 'invalid_request',
      });
      const byQuery = await gw.call('GET', `/v1/runs/${runId}/events?lastEventId=${id}`, { key: KEYS.a });
      expect({ id, status: byQuery.status }).toEqual({ id, status: 400 });
    }
  });
});

describe('event streams: the end of a followed stream', () => {
  const endOf = async (runId: string, outcome: string) => {
    await triad.waitForRun(runId);
    await triad.eventually(async () => (await triad.events(runId)).some((e) => e.type === outcome), {
      what: `${outcome} of ${runId}`,
    });
  };
  // Through the gateway: a run it took is streamed at once, before a planner has taken it in.
  const submit = async (body: Record<string, unknown>) =>
    (await gw.call('POST', '/v1/runs', { key: KEYS.admin, body })).body.runId as string;
  const sse = (runId: string, headers: Record<string, string> = {}) =>
    readSse(`${gw.url}/v1/runs/${runId}/events`, { authorization: `Bearer ${KEYS.a}`, ...headers });

  it('comes after the result webhook outcome, delivered or failed, which the stream shows', async () => {
    for (const [runId, path, outcome] of [
      ['sse-hook-ok', '/ok', 'webhook.delivered'],
      ['sse-hook-fail', '/fail', 'webhook.failed'],
    ]) {
      await submit({ goal: 'goal:quick', runId, callbackUrl: `${effects.url}${path}` });
      // Followed live from before the end...
      const live = await sse(runId);
      expect({ runId, status: live.status, ended: live.ended }).toEqual({ runId, status: 200, ended: true });
      const types = live.messages.map((m) => m.event);
      expect({ runId, tail: types.slice(-2) }).toEqual({ runId, tail: ['status.changed', outcome] });
      // ...and resumed after the terminal status change.
      await endOf(runId, outcome);
      const end = live.messages.at(-2)?.id as string;
      const resumed = await sse(runId, { 'last-event-id': end });
      expect({ runId, resumed: resumed.messages.map((m) => m.event), ended: resumed.ended }).toEqual({
        runId,
        resumed: [outcome],
        ended: true,
      });
    }
  });

  it('ends at the terminal status change when no webhook is due', async () => {
    const runId = await submit({ goal: 'goal:quick', runId: 'sse-no-hook' });
    const live = await sse(runId);
    expect(live.ended).toBe(true);
    const last = JSON.parse(live.messages.at(-1)?.data ?? '{}');
    expect({ type: last.type, terminal: isTerminal(last.to) }).toEqual({ type: 'status.changed', terminal: true });
  });

  it('triad events --follow shows the webhook outcome and exits 0', async () => {
    const runId = await triad.submit({ goal: 'goal:quick', runId: 'sse-cli', callbackUrl: `${effects.url}/ok` });
    await endOf(runId, 'webhook.delivered');
    const child = spawn(process.execPath, [`${REPO_ROOT}cli/dist/triad.js`, 'events', runId, '--follow'], {
      env: { PATH: process.env.PATH, TRIAD_URL: gw.url, TRIAD_API_KEY: KEYS.a },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => {
      stdout += c;
    });
    child.stderr.on('data', (c) => {
      stderr += c;
    });
    const code = await new Promise((resolve) => child.once('close', resolve));
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toMatch(new RegExp(`webhook {3}delivered to ${effects.url}/ok \\(HTTP 200, attempt 1\\)\\n$`));
  });
});
