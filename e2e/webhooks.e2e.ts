// Signed result webhooks: a run whose goal names a callbackUrl is POSTed there by the judge when it ends,
// signed with TRIAD_WEBHOOK_SECRET, retried with backoff on failure, and the outcome is recorded as a run event.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { QUEUES, RunFinished, type StoredRunEvent, verifyWebhook } from '@triad/shared';
import type { Scenario } from '@triad/testing';
import { Queue } from 'bullmq';
import { TriadHarness } from './support/triad-harness.js';

const SECRET = 'whsec-test-secret';
const scenario: Scenario = {
  scripts: [{ name: 'quick', match: 'goal:quick', turns: { planner: [{ content: 'All done.' }] } }],
};

interface Delivery {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  answered: number;
}

/** A webhook receiver whose answer per path is scripted: a list of statuses, the last one repeating. */
class Receiver {
  readonly deliveries: Delivery[] = [];
  readonly answers = new Map<string, number[]>();
  private server!: Server;

  async start(): Promise<this> {
    this.server = createServer(async (req, res) => {
      let body = '';
      for await (const chunk of req) body += chunk;
      const path = req.url ?? '/';
      const plan = this.answers.get(path) ?? [200];
      const answered = plan.length > 1 ? (plan.shift() as number) : plan[0];
      this.deliveries.push({ path, headers: req.headers, body, answered });
      res.writeHead(answered).end();
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return this;
  }

  url(path: string): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${path}`;
  }

  on(path: string): Delivery[] {
    return this.deliveries.filter((d) => d.path === path);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

let triad: TriadHarness;
let receiver: Receiver;

beforeAll(async () => {
  receiver = await new Receiver().start();
  triad = await TriadHarness.start({
    scenario,
    executors: 1,
    env: {
      TRIAD_JUDGE_POLICY: 'checks',
      TRIAD_WEBHOOK_SECRET: SECRET,
      TRIAD_WEBHOOK_ATTEMPTS: '3',
      TRIAD_WEBHOOK_BACKOFF_MS: '50',
    },
  });
});
afterAll(async () => {
  await triad?.stop();
  await receiver?.close();
});

async function webhookEvent(runId: string): Promise<StoredRunEvent> {
  for (let i = 0; i < 300; i++) {
    const e = (await triad.events(runId)).find((x) => x.type === 'webhook.delivered' || x.type === 'webhook.failed');
    if (e) return e;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no webhook outcome for ${runId}\n${triad.services.map((s) => s.output().slice(-2000)).join('\n')}`);
}

describe('result webhooks', () => {
  it('POST the finished run to the callbackUrl, signed so the receiver can verify it', async () => {
    const runId = await triad.submit({ goal: 'goal:quick', runId: 'wh-signed', callbackUrl: receiver.url('/ok') });
    await triad.waitForRun(runId);
    expect(await webhookEvent(runId)).toMatchObject({ type: 'webhook.delivered', attempts: 1, status: 200 });
    const [d] = receiver.on('/ok');
    expect(receiver.on('/ok')).toHaveLength(1);
    const ts = d.headers['triad-timestamp'] as string;
    const sig = d.headers['triad-signature'] as string;
    expect(sig).toMatch(/^v1=[0-9a-f]{64}$/);
    expect(verifyWebhook(SECRET, ts, d.body, sig, 300)).toBe(true);
    expect(verifyWebhook(SECRET, ts, d.body.replace('succeeded', 'failed'), sig, 300)).toBe(false);
    expect(verifyWebhook('another-secret', ts, d.body, sig, 300)).toBe(false);
    expect(verifyWebhook(SECRET, Number(ts) - 3600, d.body, sig, 300)).toBe(false);
    expect(d.headers['triad-event']).toBe('run.finished');
    expect(d.headers['idempotency-key']).toBe(runId);
    expect(RunFinished.parse(JSON.parse(d.body))).toMatchObject({ runId, status: 'succeeded', answer: 'All done.' });
  });

  it('retry a failing receiver with backoff until it accepts, and deliver successfully once', async () => {
    receiver.answers.set('/flaky', [500, 500, 200]);
    const runId = await triad.submit({ goal: 'goal:quick', runId: 'wh-flaky', callbackUrl: receiver.url('/flaky') });
    await triad.waitForRun(runId);
    expect(await webhookEvent(runId)).toMatchObject({ type: 'webhook.delivered', attempts: 3 });
    const got = receiver.on('/flaky');
    expect(got.map((d) => d.answered)).toEqual([500, 500, 200]);
    expect(new Set(got.map((d) => d.headers['idempotency-key']))).toEqual(new Set([runId]));
    for (const d of got) {
      expect(
        verifyWebhook(SECRET, d.headers['triad-timestamp'] as string, d.body, d.headers['triad-signature'] as string),
      ).toBe(true);
    }
    const outcomes = (await triad.events(runId)).filter((e) => e.type.startsWith('webhook.'));
    expect(outcomes).toHaveLength(1);
  });

  it('record a webhook.failed event after the last attempt', async () => {
    receiver.answers.set('/down', [503]);
    const runId = await triad.submit({ goal: 'goal:quick', runId: 'wh-down', callbackUrl: receiver.url('/down') });
    await triad.waitForRun(runId);
    expect(await webhookEvent(runId)).toMatchObject({
      type: 'webhook.failed',
      url: receiver.url('/down'),
      attempts: 3,
      error: expect.stringContaining('503'),
    });
    expect(receiver.on('/down')).toHaveLength(3);
  });

  it('send nothing for a run without a callbackUrl', async () => {
    const runId = await triad.submit({ goal: 'goal:quick', runId: 'wh-none' });
    await triad.waitForRun(runId);
    expect(await triad.queues.results.getJob(`finished-${runId}`)).toBeTruthy();
    const webhooks = new Queue(QUEUES.webhooks, { connection: triad.redis, prefix: triad.prefix });
    expect(await webhooks.getJob(`webhook-${runId}`)).toBeUndefined();
    expect(await webhooks.getJob('webhook-wh-signed')).toBeTruthy(); // the queue and id are the ones used
    await webhooks.close();
    expect((await triad.events(runId)).some((e) => e.type.startsWith('webhook.'))).toBe(false);
    expect(receiver.deliveries.some((d) => d.body.includes(runId))).toBe(false);
  });
});
