// Run data that ends: with a short TRIAD_RUN_RETENTION, an ended run's keys (record, events, ledger, approvals) get
// the retention as their TTL and go; the planners' sweep takes out its index entry and its jobs past the same age.
// An admin's DELETE removes an ended run at once and refuses a running one. Real gateway, planner, executor and
// judge processes on the real Redis.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DEFAULT_TENANT, storeRunId } from '@triad/shared';
import type { Scenario } from '@triad/testing';
import { EffectServer } from './support/effect-server.js';
import { GatewayClient } from './support/gateway-harness.js';
import { acceptedScript, postWebhook } from './support/scripts.js';
import { TriadHarness } from './support/triad-harness.js';

const scenario: Scenario = {
  scripts: [
    acceptedScript('quick', [{ content: 'Done at once.' }]),
    acceptedScript('gated', [
      { content: 'Notify.', toolCalls: [postWebhook('g1', 'retention')] },
      { content: 'Sent.' },
    ]),
  ],
};

const RETENTION_MS = 6_000;
const ADMIN = 'key-admin-0123456789';
const APP = 'key-app-0123456789';

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
      TRIAD_JUDGE_POLICY: 'checks',
      TRIAD_RUN_RETENTION: `${RETENTION_MS}ms`,
    },
  });
  gw = await GatewayClient.start(triad, { TRIAD_API_KEYS: `ops:${ADMIN}:admin,app:${APP}:submit+read+approve` });
});
afterAll(async () => {
  await triad?.stop();
  await effects?.close();
});

/** Every Redis key of a run (they all carry its store id as their hash tag). */
const runKeys = (storeId: string) => triad.redis.keys(`${triad.prefix}:run:{${storeId}}*`);
const listed = async () =>
  ((await gw.call('GET', '/v1/runs?limit=200', { key: APP })).body.runs as { id: string }[]).map((r) => r.id);

async function submitAndFinish(goal: string): Promise<string> {
  const { runId } = (await gw.call('POST', '/v1/runs', { key: APP, body: { goal } })).body;
  await triad.eventually(
    async () => (await gw.call('GET', `/v1/runs/${runId}`, { key: APP })).body.status === 'succeeded',
    { what: `run ${runId} to succeed` },
  );
  return runId;
}

describe('retention', () => {
  it("expires an ended run's keys, index entry and kept jobs after TRIAD_RUN_RETENTION", async () => {
    const runId = await submitAndFinish('goal:quick');
    const storeId = storeRunId(DEFAULT_TENANT, runId);
    // Every key of the ended run is set to expire within the retention (moments after its end: the finisher
    // publishes the result first).
    await triad.eventually(async () => (await triad.redis.pttl(triad.store.keys.run(storeId))) > 0, {
      what: 'the ended run to be set to expire',
    });
    const keys = await runKeys(storeId);
    expect(keys).toEqual(expect.arrayContaining([triad.store.keys.run(storeId), triad.store.keys.events(storeId)]));
    for (const key of keys) {
      const ttl = await triad.redis.pttl(key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(RETENTION_MS);
    }
    expect(await listed()).toContain(runId);
    expect(await triad.queues.plan.getJob(`plan-${storeId}-1`)).toBeTruthy();

    // Gone: the API says 404, no key is left, the sweep took the index entry out.
    await triad.eventually(async () => (await gw.call('GET', `/v1/runs/${runId}`, { key: APP })).status === 404, {
      what: 'the run to expire',
    });
    expect(await runKeys(storeId)).toEqual([]);
    await triad.eventually(async () => !(await listed()).includes(runId), { what: 'the index entry to be swept' });
    // Its jobs go too, though no later job completes (the sweep cleans the queues).
    await triad.eventually(async () => !(await triad.queues.plan.getJob(`plan-${storeId}-1`)), {
      what: 'the kept plan job to be removed',
    });
  });

  it('lets an admin DELETE an ended run at once, refusing a running one and other roles', async () => {
    const { runId } = (await gw.call('POST', '/v1/runs', { key: APP, body: { goal: 'goal:gated' } })).body;
    const storeId = storeRunId(DEFAULT_TENANT, runId);
    await triad.pendingApprovals(storeId);
    // Waiting at its gate, it is running: not deleted.
    const running = await gw.call('DELETE', `/v1/runs/${runId}`, { key: ADMIN });
    expect([running.status, running.body.error.code]).toEqual([409, 'conflict']);
    expect((await gw.call('DELETE', `/v1/runs/${runId}`, { key: APP })).status).toBe(403);

    expect((await gw.call('POST', `/v1/runs/${runId}/cancel`, { key: APP, body: { reason: 'done' } })).status).toBe(
      200,
    );
    const deleted = await gw.call('DELETE', `/v1/runs/${runId}`, { key: ADMIN });
    expect(deleted.status).toBe(204);
    expect(await runKeys(storeId)).toEqual([]);
    expect((await gw.call('GET', `/v1/runs/${runId}`, { key: APP })).status).toBe(404);
    expect(await listed()).not.toContain(runId);
    expect((await gw.call('GET', '/v1/approvals', { key: APP })).body.approvals).toEqual([]);
    expect((await gw.call('DELETE', `/v1/runs/${runId}`, { key: ADMIN })).status).toBe(404);
  });
});
