// Signed result webhooks: a run whose goal names a callbackUrl is POSTed there by the judge when it ends,
// signed with TRIAD_WEBHOOK_SECRET, retried with backoff on failure, and the outcome is recorded as a run event.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { QUEUES, RunFinished, type StoredRunEvent, verifyWebhook } from '@triad/shared';
import type { Scenario } from '@triad/testing';
import { Queue } from 'bullmq';
import { EffectServer } from './support/effect-server.js';
import { acceptedScript } from './support/scripts.js';
import { TriadHarness } from './support/triad-harness.js';

const SECRET = 'whsec-test-secret';
const scenario: Scenario = { scripts: [acceptedScript('quick', [{ content: 'All done.' }])] };

let triad: TriadHarness;
let receiver: EffectServer;
const callbackUrl = (path: string) => `${receiver.url}${path}`;

beforeAll(async () => {
  receiver = await EffectServer.start();
  triad = await TriadHarness.start({
    scenario,
    executors: 1,
    env: {
      TRIAD_JUDGE_POLICY: 'checks',
      TRIAD_WEBHOOK_SECRET: SECRET,
      TRIAD_WEBHOOK_ATTEMPTS: '3',
      TRIAD_WEBHOOK_BACKOFF_MS: '50',
      TRIAD_WEBHOOK_ALLOW_HOSTS: '127.0.0.1', // the receiver is on loopback, which webhooks may not reach otherwise
    },
  });
});
afterAll(async () => {
  await triad?.stop();
  await receiver?.close();
});

function webhookEvent(runId: string): Promise<StoredRunEvent> {
  return triad.eventually(
    async () => (await triad.events(runId)).find((x) => x.type === 'webhook.delivered' || x.type === 'webhook.failed'),
    { what: `the webhook outcome of run ${runId}` },
  );
}

describe('result webhooks', () => {
  it('POST the finished run to the callbackUrl, signed so the receiver can verify it', async () => {
    const runId = await triad.submit({ goal: 'goal:quick', runId: 'wh-signed', callbackUrl: callbackUrl('/ok') });
    await triad.waitForRun(runId);
    expect(await webhookEvent(runId)).toMatchObject({ type: 'webhook.delivered', attempts: 1, status: 200 });
    const [d] = receiver.requestsTo('/ok');
    expect(receiver.requestsTo('/ok')).toHaveLength(1);
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
    const runId = await triad.submit({ goal: 'goal:quick', runId: 'wh-flaky', callbackUrl: callbackUrl('/flaky') });
    await triad.waitForRun(runId);
    expect(await webhookEvent(runId)).toMatchObject({ type: 'webhook.delivered', attempts: 3 });
    const got = receiver.requestsTo('/flaky');
    expect(got.map((d) => d.status)).toEqual([500, 500, 200]);
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
    const runId = await triad.submit({ goal: 'goal:quick', runId: 'wh-down', callbackUrl: callbackUrl('/down') });
    await triad.waitForRun(runId);
    expect(await webhookEvent(runId)).toMatchObject({
      type: 'webhook.failed',
      url: callbackUrl('/down'),
      attempts: 3,
      error: expect.stringContaining('503'),
    });
    expect(receiver.requestsTo('/down')).toHaveLength(3);
  });

  it('send nothing for a run without a callbackUrl', async () => {
    // A run with a callbackUrl beside it shows that the queue and job id looked at below are the ones used.
    const withUrl = await triad.submit({ goal: 'goal:quick', runId: 'wh-beside', callbackUrl: callbackUrl('/beside') });
    await webhookEvent(withUrl);
    const runId = await triad.submit({ goal: 'goal:quick', runId: 'wh-none' });
    await triad.waitForRun(runId);
    // The result is published after the run record ends, and a webhook job would be added right after it.
    const finished = await triad.runFinished(runId);
    expect(finished.data).toMatchObject({ runId, status: 'succeeded' });
    const webhooks = new Queue(QUEUES.webhooks, { connection: triad.redis, prefix: triad.prefix });
    expect(await webhooks.getJob(`webhook-${runId}`)).toBeUndefined();
    expect((await webhooks.getJob(`webhook-${withUrl}`))?.data).toMatchObject({ runId: withUrl });
    await webhooks.close();
    expect((await triad.events(runId)).some((e) => e.type.startsWith('webhook.'))).toBe(false);
    expect(receiver.requests.filter((d) => d.body.includes(runId))).toEqual([]);
  });
});
