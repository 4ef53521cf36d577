// Fork and replay, as real processes (gateway, planner, executor, judge) over a real Redis and the scripted model:
// a fork copies the parent's history before its first live iteration and never runs it again (the remote side of a
// side-effecting call counts one call in all); a replay plays the recording (no model call, no tool run) and ends
// exactly as the parent did; a replay with a live model answers matching calls from the recording, and runs or refuses
// the others.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { RunFinished, type RunRecord, type StoredRunEvent, storeRunId } from '@triad/shared';
import type { Scenario, Turn } from '@triad/testing';
import { EffectServer } from './support/effect-server.js';
import { GatewayClient } from './support/gateway-harness.js';
import { OtlpReceiver } from './support/otlp-receiver.js';
import { ACCEPT, calc, httpPost, postWebhook } from './support/scripts.js';
import { TriadHarness } from './support/triad-harness.js';

let triad: TriadHarness;
let gw: GatewayClient;
let effects: EffectServer;
let otlp: OtlpReceiver;
const KEY = 'k-fork-submit';
const OTHER_TENANT_KEY = 'k-fork-other';

// Scripts are built once the effect server's URL is known.
function scenario(url: string): Scenario {
  const charge = httpPost('c1', `${url}/charge`, '{"amount":42}');
  const parent: Turn[] = [
    { content: 'Charge first.', toolCalls: [charge] },
    { content: 'Now add.', toolCalls: [calc('c2', '40+2')] },
    { content: 'Charged 42 and the sum is {{tool:c2.data.result}}.' },
  ];
  return {
    scripts: [
      {
        name: 'charge',
        match: 'goal:charge',
        turnBy: {
          planner: 'assistantMessages',
          'planner-b': 'assistantMessages',
          'planner-c': 'assistantMessages',
          judge: 'lastMessage',
        },
        turns: {
          planner: parent,
          // The fork's model: turn 0 would charge again, so a fork that asked it for iteration 1 would be seen.
          'planner-b': [
            { content: 'Charge again.', toolCalls: [httpPost('x1', `${url}/charge-again`)] },
            { content: 'Forked: charged once, no sum needed.' },
          ],
          // A live model that calls what the recording does not hold.
          'planner-c': [
            { content: 'Something else.', toolCalls: [httpPost('o1', `${url}/other`)] },
            { content: 'Done another way.' },
          ],
          judge: [ACCEPT],
        },
      },
      {
        name: 'gated',
        match: 'goal:gated',
        turnBy: { planner: 'assistantMessages', judge: 'lastMessage' },
        turns: {
          planner: [{ content: 'Notify.', toolCalls: [postWebhook('g1', 'fork')] }, { content: 'Notified.' }],
          judge: [ACCEPT],
        },
      },
    ],
  };
}

beforeAll(async () => {
  effects = await EffectServer.start();
  otlp = await OtlpReceiver.start();
  triad = await TriadHarness.start({
    scenario: scenario(effects.url),
    executors: 1,
    env: {
      TRIAD_HTTP_ALLOW_HOSTS: '127.0.0.1',
      TRIAD_WEBHOOK_URL: `${effects.url}/hook`,
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '200',
      // Tenant acme's runs take a slot each: a fork of one starts through the tenant scheduler, at its fork point.
      TRIAD_TENANT_LIMITS: JSON.stringify({ acme: { maxRunsInFlight: 1 } }),
      // The models a goal may name besides the planner's own.
      TRIAD_ALLOWED_MODELS: 'planner-b,planner-c',
    },
  });
  gw = await GatewayClient.start(triad, {
    TRIAD_API_KEYS: `forker:${KEY}:submit+read+approve:default,other:${OTHER_TENANT_KEY}:submit+read:acme`,
  });
});
afterAll(async () => {
  await triad?.stop();
  await effects?.close();
  await otlp?.close();
});

const post = (path: string, body: unknown, key = KEY) => gw.call('POST', path, { key, body });

async function parentRun(runId: string): Promise<RunRecord> {
  const answer = await gw.call('POST', '/v1/runs', { key: KEY, body: { goal: 'goal:charge', runId } });
  expect(answer.status).toBe(202);
  const run = await triad.waitForRun(runId);
  expect(run.status).toBe('succeeded');
  return run;
}

/** A run's events without what differs between two runs of the same history: ids, times, the request. */
function comparable(events: StoredRunEvent[]): unknown[] {
  return events.map(({ id: _id, at: _at, ...e }) => (e.type === 'goal.received' ? { type: e.type } : e));
}

const chargesOf = (path: string) => effects.requestsTo(path).length;

describe('fork', () => {
  let parent: RunRecord;
  beforeAll(async () => {
    parent = await parentRun('parent-1');
  });

  it('copies the history before the fork point, never runs it again, and runs on live with another model', async () => {
    expect(chargesOf('/charge')).toBe(1);
    const plannerCalls = triad.modelRequests('charge', 'planner').length;
    const answer = await post(`/v1/runs/${parent.id}/fork`, { fromIteration: 2, model: 'planner-b' });
    expect(answer.status).toBe(202);
    const forkId = answer.body.runId as string;
    expect(forkId).not.toBe(parent.id);

    const fork = await triad.waitForRun(forkId);
    expect(fork).toMatchObject({ status: 'succeeded', answer: 'Forked: charged once, no sum needed.' });
    expect(fork.forkOf).toEqual({ runId: parent.id, iteration: 2 });
    expect((await triad.runFinished(forkId)).data).toMatchObject({ forkOf: { runId: parent.id, iteration: 2 } });
    expect(RunFinished.parse((await triad.runFinished(forkId)).data).forkOf?.iteration).toBe(2);
    expect((await gw.call('GET', `/v1/runs/${forkId}`, { key: KEY })).body.forkOf).toEqual(fork.forkOf);

    // The remote side saw exactly one charge in all, and nothing of the fork's model's first (unused) turn.
    expect(chargesOf('/charge')).toBe(1);
    expect(chargesOf('/charge-again')).toBe(0);
    // The parent's model was not asked for the fork; the fork's model was asked once, for iteration 2, with the
    // parent's iteration 1 (its call and its recorded result) in the conversation.
    expect(triad.modelRequests('charge', 'planner')).toHaveLength(plannerCalls);
    const forkCalls = triad.modelRequests('charge', 'planner-b');
    expect(forkCalls).toHaveLength(1);
    const messages = forkCalls[0]?.body.messages as { role: string; content: string | null }[];
    const toolMessage = messages.find((m) => m.role === 'tool');
    expect(JSON.parse(toolMessage?.content ?? 'null')).toMatchObject({ ok: true });

    // The fork's events start with the parent's iteration 1, copied; iteration 2 is the fork's own.
    const parentEvents = await triad.events(parent.id);
    const forkEvents = await triad.events(forkId);
    const iteration1 = (es: StoredRunEvent[]) => comparable(es.filter((e) => e.iteration === 1));
    expect(iteration1(forkEvents)).toEqual(iteration1(parentEvents));
    expect(forkEvents.find((e) => e.type === 'thought' && e.iteration === 2)).toMatchObject({ model: 'planner-b' });
    // Only the fork's own spend counts: one planner call and one judge call.
    expect(fork.usage).toMatchObject({ modelCalls: 2, toolCalls: 0 });

    // The fork has a trace of its own, whose root span links to the parent's trace.
    const traceOf = (run: RunRecord) => run.traceparent?.split('-')[1];
    expect(traceOf(fork)).not.toBe(traceOf(parent));
    const spans = await otlp.waitFor(
      (all) => all.some((s) => s.name === 'invoke_workflow triad' && s.attributes['run.id'] === forkId),
      { what: "the fork's invoke_workflow span" },
    );
    const root = spans.find((s) => s.name === 'invoke_workflow triad' && s.attributes['run.id'] === forkId);
    expect(root?.traceId).toBe(traceOf(fork));
    expect(root?.links).toEqual([
      { traceId: traceOf(parent), spanId: parent.traceparent?.split('-')[2], attributes: { 'triad.link': 'fork' } },
    ]);
  });

  it('answers 400, 404 and 409 for a bad iteration, an unknown or foreign run, and a parent not there yet', async () => {
    expect((await post('/v1/runs/no-such-run/fork', { fromIteration: 1 })).status).toBe(404);
    // Same id, other tenant: not there for this caller.
    expect((await post(`/v1/runs/${parent.id}/fork`, { fromIteration: 1 }, OTHER_TENANT_KEY)).status).toBe(404);
    const bad = await post(`/v1/runs/${parent.id}/fork`, { fromIteration: 0 });
    expect(bad.status).toBe(400);
    const ended = await post(`/v1/runs/${parent.id}/fork`, { fromIteration: 5 });
    expect(ended.status).toBe(400);
    expect(ended.body.error.message).toContain('ended in iteration 3');

    // A parent parked at an approval in iteration 1 has not reached iteration 2.
    await gw.call('POST', '/v1/runs', { key: KEY, body: { goal: 'goal:gated', runId: 'gated-1' } });
    await triad.pendingApprovals(storeRunId('default', 'gated-1'));
    const early = await post('/v1/runs/gated-1/fork', { fromIteration: 2 });
    expect(early.status).toBe(409);
    expect(early.body.error.code).toBe('conflict');
    expect((await post('/v1/runs/gated-1/replay', {})).status).toBe(409);
    await gw.call('POST', '/v1/runs/gated-1/cancel', { key: KEY, body: {} });
  });
});

describe('a model the deployment does not allow', () => {
  it('is refused at the gateway (submit, fork, live replay) and at intake, and no model is asked', async () => {
    const asked = triad.model.requests.length;
    const submitted = await gw.call('POST', '/v1/runs', { key: KEY, body: { goal: 'goal:charge', model: 'giant' } });
    expect(submitted.status).toBe(400);
    expect(submitted.body.error).toMatchObject({ code: 'invalid_request', issues: [{ path: 'model' }] });
    expect(submitted.body.error.message).toContain('model "giant" is not allowed here');
    const parent = await parentRun('parent-models');
    const asked2 = triad.model.requests.length;
    expect((await post(`/v1/runs/${parent.id}/fork`, { fromIteration: 2, model: 'giant' })).status).toBe(400);
    expect((await post(`/v1/runs/${parent.id}/replay`, { liveModel: true, model: 'giant' })).status).toBe(400);
    // A producer on the queue, past the gateway: the planner's intake rejects the goal.
    const runId = await triad.submit({ goal: 'goal:charge', runId: 'queued-giant', model: 'giant' });
    const run = await triad.waitForRun(runId);
    expect(run).toMatchObject({ status: 'failed', error: { code: 'invalid_goal' } });
    expect(run.error?.message).toContain('model "giant" is not allowed here');
    expect(triad.model.requests.length).toBe(asked2);
    expect(asked2).toBeGreaterThan(asked);
    expect(triad.model.requests.some((r) => r.model === 'giant')).toBe(false);
  });
});

describe('fork of a tenant with a cap on runs in flight', () => {
  it('waits for a slot like any run, then starts at the fork point, in the caller tenant', async () => {
    const acme = (body: unknown) => gw.call('POST', '/v1/runs', { key: OTHER_TENANT_KEY, body });
    expect((await acme({ goal: 'goal:charge', runId: 'acme-parent' })).status).toBe(202);
    expect((await triad.waitForRun(storeRunId('acme', 'acme-parent'))).status).toBe('succeeded');
    // A run parked at an approval holds acme's one slot, so the fork waits for it.
    await acme({ goal: 'goal:gated', runId: 'acme-gated' });
    await triad.pendingApprovals(storeRunId('acme', 'acme-gated'));
    const charges = chargesOf('/charge');
    const answer = await post('/v1/runs/acme-parent/fork', { fromIteration: 2, model: 'planner-b' }, OTHER_TENANT_KEY);
    expect(answer.status).toBe(202);
    const forkId = storeRunId('acme', answer.body.runId);
    await triad.eventually(async () => (await triad.events(forkId)).some((e) => e.type === 'run.queued'), {
      what: 'the fork to wait for a slot',
    });
    await gw.call('POST', '/v1/runs/acme-gated/cancel', { key: OTHER_TENANT_KEY, body: {} });
    const fork = await triad.waitForRun(forkId);
    expect(fork).toMatchObject({ status: 'succeeded', tenant: 'acme', forkOf: { runId: 'acme-parent', iteration: 2 } });
    const events = await triad.events(forkId);
    expect(events.some((e) => e.type === 'run.admitted')).toBe(true);
    expect(events.filter((e) => e.type === 'thought').map((e) => e.iteration)).toEqual([1, 2]);
    expect(chargesOf('/charge')).toBe(charges);
    // The default tenant's caller does not see acme's run.
    expect((await post('/v1/runs/acme-parent/fork', { fromIteration: 1 })).status).toBe(404);
  });
});

describe('replay', () => {
  let parent: RunRecord;
  beforeAll(async () => {
    parent = await parentRun('parent-2');
  });

  it('plays the recording: no model call, no tool run, and the same events, verdicts and status', async () => {
    const modelCalls = triad.model.requests.length;
    const charges = effects.requests.length;
    const answer = await post(`/v1/runs/${parent.id}/replay`, {});
    expect(answer.status).toBe(202);
    const replay = await triad.waitForRun(answer.body.runId);
    expect(triad.model.requests).toHaveLength(modelCalls);
    expect(effects.requests).toHaveLength(charges);
    expect(replay).toMatchObject({ status: parent.status, answer: parent.answer, iteration: parent.iteration });
    expect(replay.replayOf).toEqual({ runId: parent.id });
    expect((await triad.runFinished(replay.id)).data).toMatchObject({ replayOf: { runId: parent.id } });
    expect(comparable(await triad.events(replay.id))).toEqual(comparable(await triad.events(parent.id)));
    expect(replay.usage).toEqual(parent.usage);
    const verdicts = async (id: string) =>
      Object.entries(await triad.store.ledger(id))
        .filter(([name]) => name.startsWith('verdict:'))
        .sort(([a], [b]) => a.localeCompare(b));
    expect(await verdicts(replay.id)).toEqual(await verdicts(parent.id));
    expect(await verdicts(parent.id)).toHaveLength(parent.iteration);
  });

  it("repeats an approved step's approval events and result without a gate or a call", async () => {
    await gw.call('POST', '/v1/runs', { key: KEY, body: { goal: 'goal:gated', runId: 'gated-approved' } });
    const [gate] = await triad.pendingApprovals(storeRunId('default', 'gated-approved'));
    const approved = await post(`/v1/runs/gated-approved/approvals/${gate?.id}/approve`, {});
    expect(approved.status).toBe(200);
    const gated = await triad.waitForRun('gated-approved');
    expect(gated.status).toBe('succeeded');
    const hooks = effects.requestsTo('/hook').length;
    expect(hooks).toBeGreaterThan(0);

    const answer = await post('/v1/runs/gated-approved/replay', {});
    const replay = await triad.waitForRun(answer.body.runId);
    expect(replay.status).toBe('succeeded');
    expect(effects.requestsTo('/hook')).toHaveLength(hooks);
    expect(await triad.approvals.listPending('default', { runId: replay.id })).toEqual([]);
    const events = comparable(await triad.events(replay.id));
    expect(events).toEqual(comparable(await triad.events('gated-approved')));
    expect(events.filter((e) => (e as { type: string }).type.startsWith('approval.'))).toHaveLength(2);
  });

  it('with a live model, answers calls that match the recording from it', async () => {
    const charges = chargesOf('/charge');
    const plannerCalls = triad.modelRequests('charge', 'planner').length;
    const answer = await post(`/v1/runs/${parent.id}/replay`, { liveModel: true });
    const replay = await triad.waitForRun(answer.body.runId);
    expect(replay).toMatchObject({ status: 'succeeded', answer: parent.answer });
    expect(triad.modelRequests('charge', 'planner')).toHaveLength(plannerCalls + 3);
    expect(chargesOf('/charge')).toBe(charges);
    const observations = (await triad.events(replay.id)).filter((e) => e.type === 'observation');
    expect(observations.map((e) => e.type === 'observation' && e.observation.ok)).toEqual([true, true]);
  });

  it('with a live model, refuses a call the recording does not hold when tools may not run live', async () => {
    const answer = await post(`/v1/runs/${parent.id}/replay`, {
      liveModel: true,
      model: 'planner-c',
      toolsLive: false,
    });
    const replay = await triad.waitForRun(answer.body.runId);
    expect(replay.status).toBe('succeeded');
    const observation = (await triad.events(replay.id)).find((e) => e.type === 'observation');
    expect(observation).toMatchObject({ observation: { ok: false, error: { code: 'not_recorded' } } });
    expect(chargesOf('/other')).toBe(0);
  });

  it('with a live model, runs a call the recording does not hold live (under the usual gates)', async () => {
    const answer = await post(`/v1/runs/${parent.id}/replay`, { liveModel: true, model: 'planner-c' });
    const replay = await triad.waitForRun(answer.body.runId);
    const events = await triad.events(replay.id);
    expect({ status: replay.status, error: replay.error }).toEqual({ status: 'succeeded', error: null });
    expect(events.find((e) => e.type === 'observation')).toMatchObject({ observation: { ok: true } });
    expect(chargesOf('/other')).toBe(1);
  });
});
