// Approval push: every gate transition is POSTed to TRIAD_APPROVAL_WEBHOOK_URL, signed like result webhooks:
// `approval.requested` when a gate opens, `approval.decided` when it is approved, rejected or expires, each exactly
// once however often the step's job is delivered and whoever made the decision (the gateway, or an operator whose
// decision the executor pushes when it wakes). A real HTTP receiver checks the signatures; real planner, executor,
// judge and gateway processes on the real Redis.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  type ApprovalRecord,
  ApprovalWebhookPayload,
  JOB_NAMES,
  jobIds,
  QUEUES,
  splitStoreRunId,
  verifyWebhook,
} from '@triad/shared';
import type { Scenario } from '@triad/testing';
import { Queue } from 'bullmq';
import { type EffectRequest, EffectServer } from './support/effect-server.js';
import { GatewayClient } from './support/gateway-harness.js';
import { acceptedScript, postWebhook } from './support/scripts.js';
import { TriadHarness } from './support/triad-harness.js';

const SECRET = 'whsec-approvals-secret';
const CONSOLE = 'https://triad.example.com/console';
const OPS = 'key-ops-0123456789';

const scenario: Scenario = {
  scripts: [
    acceptedScript('gated', [
      { content: 'Notify.', toolCalls: [postWebhook('g1', 'the release')] },
      { content: 'Done.' },
    ]),
  ],
};

let triad: TriadHarness;
let gw: GatewayClient;
let receiver: EffectServer;
let webhooks: Queue;

beforeAll(async () => {
  receiver = await EffectServer.start();
  triad = await TriadHarness.start({
    scenario,
    executors: 1,
    env: {
      TRIAD_JUDGE_POLICY: 'checks',
      TRIAD_WEBHOOK_URL: `${receiver.url}/tool`, // the gated tool's own target
      TRIAD_APPROVAL_WEBHOOK_URL: `${receiver.url}/approvals`,
      TRIAD_CONSOLE_URL: `${CONSOLE}/`,
      TRIAD_WEBHOOK_SECRET: SECRET,
      TRIAD_WEBHOOK_BACKOFF_MS: '50',
      TRIAD_WEBHOOK_ALLOW_HOSTS: '127.0.0.1', // the receiver is on loopback
    },
  });
  gw = await GatewayClient.start(triad, { TRIAD_API_KEYS: `ops:${OPS}:admin` });
  webhooks = new Queue(QUEUES.webhooks, { connection: triad.redis, prefix: triad.prefix });
});
afterAll(async () => {
  await webhooks?.close();
  await triad?.stop();
  await receiver?.close();
});

/** The approval pushes the receiver got for one run, checked for a valid signature. */
function pushes(runId: string): { request: EffectRequest; payload: ApprovalWebhookPayload }[] {
  return receiver
    .requestsTo('/approvals')
    .map((request) => ({ request, payload: ApprovalWebhookPayload.parse(JSON.parse(request.body)) }))
    .filter((p) => p.payload.runId === splitStoreRunId(runId).runId);
}

function expectSigned(request: EffectRequest): void {
  const ts = request.headers['triad-timestamp'] as string;
  const sig = request.headers['triad-signature'] as string;
  expect(sig).toMatch(/^v1=[0-9a-f]{64}$/);
  expect(verifyWebhook(SECRET, ts, request.body, sig, 300)).toBe(true);
  expect(verifyWebhook(SECRET, ts, request.body.replace('post_webhook', 'calculator'), sig, 300)).toBe(false);
}

const pushed = (runId: string, event: string, count = 1) =>
  triad.eventually(
    () => {
      const got = pushes(runId).filter((p) => p.payload.event === event);
      return got.length >= count && got;
    },
    { what: `${count} ${event} push(es) of ${runId}` },
  );

async function openGate(runId: string): Promise<ApprovalRecord> {
  await triad.submit({ goal: 'goal:gated — notify', runId });
  const [gate] = await triad.pendingApprovals(runId);
  const [requested] = await pushed(runId, 'approval.requested');
  expectSigned(requested.request);
  expect(requested.request.headers['triad-event']).toBe('approval.requested');
  expect(requested.request.headers['idempotency-key']).toBe(
    jobIds.approvalWebhook(runId, gate.stepId, 'approval.requested'),
  );
  expect(requested.payload).toEqual({
    event: 'approval.requested',
    runId,
    tenant: 'default',
    approvalId: gate.id,
    stepId: gate.stepId,
    iteration: 1,
    tool: 'post_webhook',
    risk: 'irreversible',
    arguments: gate.arguments,
    argumentsHash: gate.argumentsHash,
    requestedBy: 'planner',
    requestedAt: gate.requestedAt,
    expiresAt: gate.expiresAt,
    decision: null,
    decidedBy: null,
    decidedAt: null,
    reason: null,
    editedArguments: null,
    consoleUrl: `${CONSOLE}/runs/${runId}`,
  });
  expect(JSON.parse(requested.payload.arguments)).toMatchObject({ subject: 'the release' });
  return gate;
}

/** Waits for the run to end, then checks it got exactly one push of each event. */
async function expectOnePushEach(runId: string): Promise<void> {
  await triad.waitForRun(runId);
  const jobs = ['approval.requested', 'approval.decided'] as const;
  for (const event of jobs) {
    const job = await webhooks.getJob(jobIds.approvalWebhook(runId, '1-0', event));
    await triad.eventually(async () => (await job?.getState()) === 'completed', {
      what: `the ${event} job to complete`,
    });
  }
  expect(pushes(runId).map((p) => p.payload.event)).toEqual([...jobs]);
}

describe('approval push', () => {
  it('pushes approval.requested and, once approved through the API, approval.decided with the approver', async () => {
    const runId = 'push-approve';
    const gate = await openGate(runId);
    const res = await gw.call('POST', `/v1/runs/${runId}/approvals/${gate.id}/approve`, { key: OPS, body: {} });
    expect(res.status).toBe(200);
    const [decided] = await pushed(runId, 'approval.decided');
    expectSigned(decided.request);
    expect(decided.request.headers['triad-event']).toBe('approval.decided');
    expect(decided.payload).toMatchObject({
      event: 'approval.decided',
      approvalId: gate.id,
      decision: 'approved',
      decidedBy: 'ops',
      reason: null,
      editedArguments: null,
      consoleUrl: `${CONSOLE}/runs/${runId}`,
    });
    expect(decided.payload.decidedAt).toEqual(expect.any(Number));
    expect((await triad.waitForRun(runId)).status).toBe('succeeded');
    await expectOnePushEach(runId);
  });

  it('pushes a rejection made outside the gateway (the executor sends it when the step wakes), with the reason', async () => {
    const runId = 'push-reject';
    const gate = await openGate(runId);
    await triad.approvals.reject(runId, gate.id, 'bob@example.com', 'not during the freeze');
    const [decided] = await pushed(runId, 'approval.decided');
    expectSigned(decided.request);
    expect(decided.payload).toMatchObject({
      approvalId: gate.id,
      decision: 'rejected',
      decidedBy: 'bob@example.com',
      reason: 'not during the freeze',
    });
    await expectOnePushEach(runId);
  });

  it('pushes an unanswered gate as decided with decision expired', async () => {
    const runId = 'push-expire';
    await triad.submit({ goal: 'goal:gated — notify', runId, approvalTimeoutMs: 1_000 });
    const [requested] = await pushed(runId, 'approval.requested');
    const [decided] = await pushed(runId, 'approval.decided');
    expectSigned(decided.request);
    expect(decided.payload).toMatchObject({
      approvalId: requested.payload.approvalId,
      decision: 'expired',
      decidedBy: 'triad',
      reason: expect.stringMatching(/^no decision within/),
    });
    await expectOnePushEach(runId);
  });

  it('posts nothing again when a push job is delivered again', async () => {
    const runId = 'push-approve';
    // The jobs are gone (as after the retention) and added again, as a redelivery or a racing replica would.
    for (const event of ['approval.requested', 'approval.decided'] as const) {
      const id = jobIds.approvalWebhook(runId, '1-0', event);
      await (await webhooks.getJob(id))?.remove();
      const again = await webhooks.add(JOB_NAMES.approvalWebhook, { runId, stepId: '1-0', event }, { jobId: id });
      await triad.eventually(async () => (await again.getState()) === 'completed', { what: `${id} to run again` });
      expect((await webhooks.getJob(id))?.returnvalue).toBe('delivered');
    }
    expect(pushes(runId).map((p) => p.payload.event)).toEqual(['approval.requested', 'approval.decided']);
  });
});
