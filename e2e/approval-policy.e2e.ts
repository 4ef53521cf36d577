// The approval policy across processes: what a goal may add to the server's policy, what it may not lengthen, a
// non-default server policy, an approver's edit that the tool refuses, and secret arguments kept out of approvals.
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  type ApprovalRecord,
  ApprovalStore,
  Approvals,
  type StoredRunEvent,
  splitStoreRunId,
  wakeParkedStep,
} from '@triad/shared';
import type { ToolCallScript } from '@triad/testing';
import { EffectServer } from './support/effect-server.js';
import { GatewayClient } from './support/gateway-harness.js';
import { acceptedScript } from './support/scripts.js';
import { TriadHarness } from './support/triad-harness.js';

const SECRET = 'sk-approval-secret-7f3a91';
const APPROVER_TOKEN = 'sk-approver-own-token-52c0';

const hook = (id: string, subject: string): ToolCallScript => ({
  id,
  name: 'post_webhook',
  arguments: { subject, message: `about ${subject}` },
});
const calc = (id: string, expression: string): ToolCallScript => ({
  id,
  name: 'calculator',
  arguments: { expression },
});
const write = (id: string, path: string): ToolCallScript => ({
  id,
  name: 'write_file',
  arguments: { path, content: 'written', mode: 'create' },
});

let effects: EffectServer;
beforeAll(async () => {
  effects = await EffectServer.start();
});
afterAll(async () => {
  await effects?.close();
});

const hookEffects = (subject: string) =>
  effects.effectsOn('/hook').filter((e) => JSON.parse(e.body).subject === subject);

/** The harness's approval API, and a wait for a run's pending gates. */
function approvalsOf(triad: TriadHarness) {
  const store = new ApprovalStore(triad.redis, triad.prefix);
  const approvals = new Approvals(store, { wake: (r, s) => wakeParkedStep(triad.queues.act, r, s) });
  const pending = (runId: string, count: number) =>
    triad.eventually(
      async () => {
        const gates = await approvals.listPending(splitStoreRunId(runId).tenant, { runId });
        return gates.length === count ? gates.sort((a, b) => a.stepId.localeCompare(b.stepId)) : false;
      },
      { what: `${count} pending approval(s) of ${runId}` },
    );
  return { approvals, store, pending };
}

const ofType = <T extends StoredRunEvent['type']>(events: StoredRunEvent[], type: T) =>
  events.filter((e): e is Extract<StoredRunEvent, { type: T }> => e.type === type);

describe('with the default server policy (irreversible calls wait for a human)', () => {
  let triad: TriadHarness;
  let gateway: GatewayClient;
  let gates: ReturnType<typeof approvalsOf>;

  beforeAll(async () => {
    triad = await TriadHarness.start({
      executors: 1,
      env: { TRIAD_WEBHOOK_URL: `${effects.url}/hook`, TRIAD_HTTP_ALLOW_HOSTS: '127.0.0.1' },
      scenario: {
        scripts: [
          acceptedScript('added-level', [
            { content: 'Sum and notify.', toolCalls: [calc('c1', '6*7'), hook('h1', 'added-level')] },
            { content: 'The sum is {{tool:c1.data.result}}.' },
          ]),
          acceptedScript('no-added-level', [
            { content: 'Sum.', toolCalls: [calc('c2', '6*7')] },
            { content: 'The sum is {{tool:c2.data.result}}.' },
          ]),
          acceptedScript('invalid-edit', [
            { content: 'Two notices.', toolCalls: [hook('e1', 'wrong-type'), hook('e2', 'not-json')] },
            { content: '{{tool:e1.error.code}} and {{tool:e2.error.code}}' },
          ]),
          acceptedScript('secret', [
            {
              content: 'Fetch with the token.',
              toolCalls: [
                {
                  id: 's1',
                  name: 'http_get',
                  arguments: { url: `${effects.url}/secret-get`, bearerToken: SECRET },
                },
              ],
            },
            { content: 'Fetched: {{tool:s1.data.status}}.' },
          ]),
          acceptedScript('edited-secret', [
            {
              content: 'Fetch twice with the token.',
              toolCalls: [
                { id: 'k1', name: 'http_get', arguments: { url: `${effects.url}/asked-1`, bearerToken: SECRET } },
                { id: 'k2', name: 'http_get', arguments: { url: `${effects.url}/asked-2`, bearerToken: SECRET } },
              ],
            },
            { content: 'Fetched: {{tool:k1.data.status}} and {{tool:k2.data.status}}.' },
          ]),
        ],
      },
    });
    gateway = await GatewayClient.start(triad);
    gates = approvalsOf(triad);
  });
  afterAll(async () => {
    await triad?.stop();
  });

  it('gates a read tool when the goal adds its level, and still gates what the server policy names', async () => {
    const runId = await triad.submit({ goal: 'goal:added-level', runId: 'policy-added', requireApproval: ['read'] });
    const [calcGate, hookGate] = (await gates.pending(runId, 2)) as [ApprovalRecord, ApprovalRecord];
    // The goal named only `read`: the server's `irreversible` stays gated (a goal adds levels, never removes any).
    expect(calcGate).toMatchObject({ stepId: '1-0', tool: 'calculator', risk: 'read', status: 'pending' });
    expect(hookGate).toMatchObject({ stepId: '1-1', tool: 'post_webhook', risk: 'irreversible', status: 'pending' });
    await gates.approvals.approve(runId, calcGate.id, 'alice');
    await gates.approvals.reject(runId, hookGate.id, 'alice', 'not this one');
    expect(await triad.waitForRun(runId)).toMatchObject({ status: 'succeeded', answer: 'The sum is 42.' });
    expect(hookEffects('added-level')).toHaveLength(0);
  });

  it('runs the same read tool without a gate when the goal adds no level', async () => {
    const runId = await triad.submit({ goal: 'goal:no-added-level', runId: 'policy-not-added' });
    expect(await triad.waitForRun(runId)).toMatchObject({ status: 'succeeded', answer: 'The sum is 42.' });
    const events = await triad.events(runId);
    expect(ofType(events, 'approval.requested')).toHaveLength(0);
    expect(ofType(events, 'observation').map((e) => e.observation)).toEqual([
      { ok: true, data: { expression: '6*7', result: 42 } },
    ]);
  });

  it('records an approver’s edit that fails the tool’s schema as invalid_arguments and never makes the call', async () => {
    const runId = await triad.submit({ goal: 'goal:invalid-edit', runId: 'policy-invalid-edit' });
    const [wrongType, notJson] = (await gates.pending(runId, 2)) as [ApprovalRecord, ApprovalRecord];
    const approve = (gate: ApprovalRecord, args: unknown) =>
      gateway.call('POST', `/v1/runs/${runId}/approvals/${gate.id}/approve`, { body: { arguments: args } });
    // Documented: the API takes any object or string; the tool validates edited arguments again before it runs.
    const answers = await Promise.all([approve(wrongType, { subject: 42, message: 'x' }), approve(notJson, '{oops')]);
    expect(answers.map((a) => [a.status, a.body.approval.status, a.body.approval.editedArguments])).toEqual([
      [200, 'approved', '{"subject":42,"message":"x"}'],
      [200, 'approved', '{oops'],
    ]);
    const run = await triad.waitForRun(runId);
    expect(run).toMatchObject({ status: 'succeeded', answer: 'invalid_arguments and invalid_arguments' });
    const observations = ofType(await triad.events(runId), 'observation').sort((a, b) =>
      a.stepId.localeCompare(b.stepId),
    );
    expect(observations.map((o) => [o.stepId, o.observation.ok ? 'ok' : o.observation.error.code])).toEqual([
      ['1-0', 'invalid_arguments'],
      ['1-1', 'invalid_arguments'],
    ]);
    expect(hookEffects('wrong-type')).toHaveLength(0);
    expect(hookEffects('not-json')).toHaveLength(0);
    expect(effects.requests.filter((r) => r.path === '/hook')).toHaveLength(0);
    expect(run.usage.toolCalls).toBe(2);
  });

  it('keeps a secret argument out of the approval record, the approval API and the run’s events', async () => {
    const runId = await triad.submit({ goal: 'goal:secret', runId: 'policy-secret', requireApproval: ['read'] });
    const [gate] = (await gates.pending(runId, 1)) as [ApprovalRecord];
    expect(JSON.parse(gate.arguments)).toEqual({ url: `${effects.url}/secret-get`, bearerToken: '[redacted]' });
    const raw = await triad.redis.hgetall(gates.store.keys.approval(runId, gate.stepId)); // stored by step id
    expect(raw.id).toBe(gate.id);
    const listed = await gateway.call('GET', `/v1/runs/${runId}/approvals`);
    const listedAll = await gateway.call('GET', '/v1/approvals');
    expect(listed.body.approvals.map((a: ApprovalRecord) => a.id)).toEqual([gate.id]);
    const decided = await gateway.call('POST', `/v1/runs/${runId}/approvals/${gate.id}/approve`, { body: {} });
    expect(decided.status).toBe(200);
    expect(await triad.waitForRun(runId)).toMatchObject({ status: 'succeeded', answer: 'Fetched: 200.' });
    // The call itself got the token.
    expect(effects.requests.filter((r) => r.path === '/secret-get').map((r) => r.authorization)).toEqual([
      `Bearer ${SECRET}`,
    ]);
    const events = await triad.events(runId);
    expect(ofType(events, 'approval.requested').map((e) => JSON.parse(e.arguments).bearerToken)).toEqual([
      '[redacted]',
    ]);
    const seen = { stored: await gates.approvals.get(runId, gate.id), raw, listed, listedAll, decided, events };
    expect(JSON.stringify(seen)).not.toContain(SECRET);
  });

  it('runs an edit that keeps a secret shown as [redacted] with the model’s value, and never echoes a new one', async () => {
    const runId = await triad.submit({
      goal: 'goal:edited-secret',
      runId: 'policy-edited-secret',
      requireApproval: ['read'],
    });
    const [kept, replaced] = (await gates.pending(runId, 2)) as [ApprovalRecord, ApprovalRecord];
    const approve = (gate: ApprovalRecord, args: unknown) =>
      gateway.call('POST', `/v1/runs/${runId}/approvals/${gate.id}/approve`, { body: { arguments: args } });
    // The approver edits what was shown (the token as [redacted]); the other approver brings a token of their own.
    const answers = [
      await approve(kept, { url: `${effects.url}/edited-1`, bearerToken: '[redacted]' }),
      await approve(replaced, { url: `${effects.url}/edited-2`, bearerToken: APPROVER_TOKEN }),
    ];
    expect(answers.map((a) => [a.status, JSON.parse(a.body.approval.editedArguments).bearerToken])).toEqual([
      [200, '[redacted]'],
      [200, '[redacted]'],
    ]);
    expect(await triad.waitForRun(runId)).toMatchObject({ status: 'succeeded', answer: 'Fetched: 200 and 200.' });
    const sent = (path: string) => effects.requests.filter((r) => r.path === path).map((r) => r.authorization);
    expect([sent('/edited-1'), sent('/edited-2'), sent('/asked-1'), sent('/asked-2')]).toEqual([
      [`Bearer ${SECRET}`],
      [`Bearer ${APPROVER_TOKEN}`],
      [],
      [],
    ]);
    const seen = JSON.stringify({ answers, events: await triad.events(runId) });
    expect(seen).not.toContain(SECRET);
    expect(seen).not.toContain(APPROVER_TOKEN);
  });
});

describe('with a non-default server policy (TRIAD_APPROVAL_RISKS=write, a 60 s deadline)', () => {
  let triad: TriadHarness;
  let gates: ReturnType<typeof approvalsOf>;
  let workspace: string;

  beforeAll(async () => {
    workspace = await mkdtemp(join(tmpdir(), 'triad-approval-policy-'));
    triad = await TriadHarness.start({
      executors: 1,
      env: {
        TRIAD_WEBHOOK_URL: `${effects.url}/hook`,
        TRIAD_WORKSPACE: workspace,
        TRIAD_APPROVAL_RISKS: 'write',
        TRIAD_APPROVAL_TIMEOUT_MS: '60000',
      },
      scenario: {
        scripts: [
          acceptedScript('write-gated', [
            { content: 'Write and notify.', toolCalls: [write('w1', 'gated.txt'), hook('h2', 'ungated')] },
            { content: 'Write {{tool:w1.error.code}}, notice {{tool:h2.data.delivered}}.' },
          ]),
          acceptedScript('longer', [
            { content: 'Write.', toolCalls: [write('w2', 'longer.txt')] },
            { content: '{{tool:w2.error.code}}' },
          ]),
          acceptedScript('shorter', [
            { content: 'Write.', toolCalls: [write('w3', 'shorter.txt')] },
            { content: '{{tool:w3.error.code}}' },
          ]),
        ],
      },
    });
    gates = approvalsOf(triad);
  });
  afterAll(async () => {
    await triad?.stop();
  });

  it('gates the levels it names and only those: a write waits, an irreversible call runs at once', async () => {
    const runId = await triad.submit({ goal: 'goal:write-gated', runId: 'policy-write' });
    const [gate] = (await gates.pending(runId, 1)) as [ApprovalRecord];
    expect(gate).toMatchObject({ stepId: '1-0', tool: 'write_file', risk: 'write' });
    // The irreversible call was not held: it is delivered while the write still waits.
    await triad.eventually(() => hookEffects('ungated').length === 1, { what: 'the ungated post_webhook' });
    expect(await gates.store.get(runId, '1-1')).toBeNull(); // by step id: no gate was opened for it
    await gates.approvals.reject(runId, gate.id, 'bob', 'no writes today');
    expect(await triad.waitForRun(runId)).toMatchObject({
      status: 'succeeded',
      answer: 'Write rejected, notice true.',
    });
    expect(hookEffects('ungated')).toHaveLength(1);
    expect(await readdir(workspace)).toEqual([]);
  });

  it('lets a goal’s approvalTimeoutMs shorten the server’s deadline but never lengthen it', async () => {
    const longer = await triad.submit({ goal: 'goal:longer', runId: 'policy-longer', approvalTimeoutMs: 3_600_000 });
    const shorter = await triad.submit({ goal: 'goal:shorter', runId: 'policy-shorter', approvalTimeoutMs: 1_500 });
    const [longGate] = (await gates.pending(longer, 1)) as [ApprovalRecord];
    expect(longGate.expiresAt - longGate.requestedAt).toBe(60_000);

    // Nobody answers the shorter gate: it resolves to the safe outcome at its own 1.5 s deadline.
    expect(await triad.waitForRun(shorter)).toMatchObject({ status: 'succeeded', answer: 'approval_expired' });
    const shortGate = (await gates.store.get(shorter, '1-0')) as ApprovalRecord;
    expect(shortGate.expiresAt - shortGate.requestedAt).toBe(1_500);
    expect(shortGate).toMatchObject({ status: 'expired', decidedBy: 'triad' });
    // The longer one is still waiting well after the shorter one expired, so it was not cut to the goal's ask either.
    expect(await gates.store.get(longer, '1-0')).toMatchObject({ status: 'pending' });
    await gates.approvals.reject(longer, longGate.id, 'carol', 'done waiting');
    expect(await triad.waitForRun(longer)).toMatchObject({ status: 'succeeded', answer: 'rejected' });
    expect(await readdir(workspace)).toEqual([]);
  });
});
