// Result webhooks go out through the same guarded HTTP client as the HTTP tools: only hosts that
// TRIAD_WEBHOOK_ALLOW_HOSTS opens may be internal, every target is checked before it is dialled, a refusal is
// recorded once as `webhook.failed` with `blocked_address` and says nothing about what (if anything) listens there,
// and a callbackUrl with credentials or another scheme is refused at submit.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { StoredRunEvent } from '@triad/shared';
import type { Scenario } from '@triad/testing';
import { GatewayClient } from './support/gateway-harness.js';
import { TriadHarness } from './support/triad-harness.js';

const scenario: Scenario = {
  scripts: [{ name: 'quick', match: 'goal:quick', turns: { planner: [{ content: 'All done.' }] } }],
};

/** A receiver on one loopback address that records every request and answers per path (200 by default). */
class Receiver {
  readonly paths: string[] = [];
  readonly redirects = new Map<string, string>();
  private server!: Server;

  constructor(private readonly host: string) {}

  async start(): Promise<this> {
    this.server = createServer(async (req, res) => {
      for await (const _ of req);
      const path = req.url ?? '/';
      this.paths.push(path);
      const location = this.redirects.get(path);
      if (location) res.writeHead(307, { location }).end();
      else res.writeHead(200).end();
    });
    await new Promise<void>((r) => this.server.listen(0, this.host, r));
    return this;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  url(path: string): string {
    return `http://${this.host}:${this.port}${path}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

let triad: TriadHarness;
let gateway: GatewayClient;
let allowed: Receiver; // on 127.0.0.1, which TRIAD_WEBHOOK_ALLOW_HOSTS names
let internal: Receiver; // on 127.0.0.2, which only the HTTP tools' list names

beforeAll(async () => {
  allowed = await new Receiver('127.0.0.1').start();
  internal = await new Receiver('127.0.0.2').start();
  triad = await TriadHarness.start({
    scenario,
    executors: 1,
    env: {
      TRIAD_JUDGE_POLICY: 'checks',
      TRIAD_WEBHOOK_SECRET: 'whsec-egress',
      TRIAD_WEBHOOK_ALLOW_HOSTS: '127.0.0.1',
      TRIAD_HTTP_ALLOW_HOSTS: '127.0.0.2',
      TRIAD_WEBHOOK_ATTEMPTS: '3',
      TRIAD_WEBHOOK_BACKOFF_MS: '50',
    },
  });
  gateway = await GatewayClient.start(triad);
});
afterAll(async () => {
  await triad?.stop();
  await allowed?.close();
  await internal?.close();
});

function webhookOutcome(runId: string): Promise<StoredRunEvent> {
  return triad.eventually(
    async () => (await triad.events(runId)).find((e) => e.type === 'webhook.delivered' || e.type === 'webhook.failed'),
    { what: `the webhook outcome of ${runId}` },
  );
}

async function finishWithCallback(runId: string, callbackUrl: string): Promise<StoredRunEvent> {
  await triad.submit({ goal: 'goal:quick', runId, callbackUrl });
  await triad.waitForRun(runId);
  return webhookOutcome(runId);
}

describe('result webhook egress', () => {
  it('delivers to a loopback host that TRIAD_WEBHOOK_ALLOW_HOSTS names', async () => {
    const event = await finishWithCallback('egress-allowed', allowed.url('/ok'));
    expect(event).toMatchObject({ type: 'webhook.delivered', attempts: 1, status: 200 });
    expect(allowed.paths.filter((p) => p === '/ok')).toEqual(['/ok']);
  });

  it('refuses internal targets before dialling them: one webhook.failed with blocked_address, no retries', async () => {
    const closedPort = internal.port === 1 ? 2 : 1;
    const targets: [runId: string, url: string][] = [
      ['egress-tools-list', internal.url('/listening')], // allowed for the HTTP tools, not for webhooks
      ['egress-closed', `http://127.0.0.2:${closedPort}/listening`],
      ['egress-localhost', `http://localhost:${allowed.port}/by-name`],
      ['egress-ipv6', `http://[::1]:${allowed.port}/v6`],
      ['egress-metadata', 'http://169.254.169.254/latest/meta-data/'],
      ['egress-mapped', `http://[::ffff:7f00:2]:${internal.port}/mapped`],
    ];
    const events = await Promise.all(targets.map(([runId, url]) => finishWithCallback(runId, url)));
    for (const [i, event] of events.entries()) {
      expect(event).toMatchObject({ type: 'webhook.failed', code: 'blocked_address', attempts: 1, url: targets[i][1] });
      if (event.type !== 'webhook.failed') continue;
      expect(event.error).toMatch(/off limits.*TRIAD_WEBHOOK_ALLOW_HOSTS/);
      expect(event.error).not.toMatch(/ECONNREFUSED|answered|\b200\b|status/);
    }
    // A listening port and a closed one read the same: the event says nothing about what answered.
    const errorOf = (e: StoredRunEvent) => (e.type === 'webhook.failed' ? e.error : '');
    expect(errorOf(events[0])).toBe(errorOf(events[1]));
    expect(internal.paths).toEqual([]);
    expect(allowed.paths.filter((p) => p !== '/ok')).toEqual([]);
  });

  it('does not follow a redirect from an allowed host to a refused one', async () => {
    allowed.redirects.set('/bounce', internal.url('/bounced'));
    const event = await finishWithCallback('egress-redirect', allowed.url('/bounce'));
    expect(event).toMatchObject({ type: 'webhook.failed', attempts: 3 });
    expect(event.type === 'webhook.failed' && event.error).toMatch(/307/);
    expect(allowed.paths.filter((p) => p === '/bounce')).toHaveLength(3);
    expect(internal.paths.filter((p) => p === '/bounced')).toEqual([]);
  });

  it.each([
    ['http://user:secret@hooks.example.com/x'],
    ['https://token@hooks.example.com/x'],
    ['ftp://hooks.example.com/x'],
    ['javascript:alert(1)'],
  ])('refuses the callbackUrl %s at submit: 400 at the gateway, invalid_goal at queue intake', async (url) => {
    const answer = await gateway.call('POST', '/v1/runs', { body: { goal: 'goal:quick', callbackUrl: url } });
    expect(answer.status).toBe(400);
    expect(answer.body.error.issues.map((i: { path: string }) => i.path)).toEqual(['callbackUrl']);

    const runId = `egress-submit-${url.length}-${url.charCodeAt(0)}`;
    await triad.submit({ goal: 'goal:quick', runId, callbackUrl: url });
    const run = await triad.waitForRun(runId);
    expect(run.status).toBe('failed');
    expect(run.error?.code).toBe('invalid_goal');
    expect(run.error?.message).toMatch(/^invalid goal: callbackUrl: /);
  });
});
