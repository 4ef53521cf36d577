// Executors that die or are stopped mid-step: killed after a tool acted on a remote system (the effect still
// happens once), stopped with SIGTERM (the step finishes first), killed by every delivery of a poison step (its
// run fails with the reason), and a run cancelled mid-tool.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import {
  ApprovalStore,
  Approvals,
  duplicateConnection,
  jobIds,
  QUEUES,
  RunControl,
  RunFinisher,
  wakeParkedStep,
} from '@triad/shared';
import { QueueEvents } from 'bullmq';
import { EffectServer } from './support/effect-server.js';
import { ACCEPT, acceptedScript, httpPost } from './support/scripts.js';
import { TriadHarness } from './support/triad-harness.js';

const SECRET = 'sk-canary-5e1c0b7a9d';
let triad: TriadHarness;
let effects: EffectServer;

beforeAll(async () => {
  effects = await EffectServer.start();
  triad = await TriadHarness.start({
    executors: 1,
    env: { TRIAD_HTTP_ALLOW_HOSTS: '127.0.0.1', TRIAD_HTTP_TIMEOUT_MS: '120000' },
    scenario: {
      scripts: [
        acceptedScript(
          'charge',
          [
            {
              content: 'Charge the card once.',
              toolCalls: [httpPost('c1', `${effects.url}/charge`, '{"amount":42}')],
            },
            { content: 'Charged: HTTP {{tool:c1.data.status}}.' },
          ],
          [ACCEPT],
        ),
        acceptedScript(
          'secret',
          [
            {
              content: 'Read the private page.',
              toolCalls: [
                { id: 's1', name: 'http_get', arguments: { url: `${effects.url}/private`, bearerToken: SECRET } },
              ],
            },
            { content: 'Read it: HTTP {{tool:s1.data.status}}.' },
          ],
          [ACCEPT],
        ),
        acceptedScript(
          'drain',
          [
            {
              content: 'Call the slow system.',
              toolCalls: [httpPost('d1', `${effects.url}/slow`)],
            },
            { content: 'Drained: HTTP {{tool:d1.data.status}}.' },
          ],
          [ACCEPT],
        ),
        acceptedScript(
          'poison',
          [
            {
              content: 'Call the system that takes workers down.',
              toolCalls: [httpPost('p1', `${effects.url}/poison`)],
            },
          ],
          [],
        ),
        acceptedScript(
          'hang',
          [
            {
              content: 'Wait for the slow system.',
              toolCalls: [{ id: 'h1', name: 'http_get', arguments: { url: `${effects.url}/hang`, bearerToken: null } }],
            },
          ],
          [],
        ),
      ],
    },
  });
});
afterAll(async () => {
  await triad?.stop();
  await effects?.close();
});

it('performs a side effect once when the executor dies between acting and recording, and the step is taken over within a minute', async () => {
  // The takeover is BullMQ's stalled check moving the dead worker's step back to wait: its `stalled` event.
  const connection = duplicateConnection(triad.redis, 'crash-e2e');
  const actEvents = new QueueEvents(QUEUES.act, { connection, prefix: triad.prefix });
  await actEvents.waitUntilReady();
  const stalled: { jobId: string; at: number }[] = [];
  actEvents.on('stalled', ({ jobId }) => stalled.push({ jobId, at: Date.now() }));
  let killedAt = 0;
  effects.onRequest = async (req) => {
    if (killedAt || req.path !== '/charge') return;
    // The charge has reached the remote system; the executor dies before it can record the result.
    const victim = triad.services.find((s) => s.name === 'executor-1');
    await victim?.kill();
    killedAt = Date.now();
    await triad.spawn('executor', 'executor-2');
  };
  const runId = await triad.submit({ goal: 'goal:charge', runId: 'crash-charge' });
  const run = await triad.waitForRun(runId, 90_000);
  await actEvents.close();
  await connection.quit(); // a connection handed to BullMQ is the caller's to close

  expect(run).toMatchObject({ status: 'succeeded', answer: 'Charged: HTTP 200.' });
  // Lock 8 s + stalled check every 3 s: about 11 s (measured by the bench). Bounded generously here, from the kill
  // to the stalled check that handed the step to the new executor.
  expect(stalled.map((s) => s.jobId)).toEqual([jobIds.act(runId, '1-0')]);
  const takeoverMs = stalled[0].at - killedAt;
  console.log(`dead executor's step taken over ${takeoverMs} ms after the kill`);
  expect(takeoverMs).toBeGreaterThan(0);
  expect(takeoverMs).toBeLessThan(60_000);
  const charges = effects.requests.filter((r) => r.path === '/charge');
  expect(charges).toHaveLength(2); // the interrupted call and its retry...
  expect(new Set(charges.map((c) => c.idempotencyKey))).toEqual(new Set([`${runId}/1-0`])); // ...with one key
  expect(effects.effectsOn('/charge')).toHaveLength(1); // so the remote side applied it once
  const observations = (await triad.events(runId)).filter((e) => e.type === 'observation');
  expect(observations).toHaveLength(1);
  expect(observations[0]).toMatchObject({ executor: 'executor-2', observation: { ok: true } });
});

it('aborts the in-flight tool of a cancelled run and ends the run cancelled', async () => {
  let release: () => void = () => {};
  effects.onRequest = (req) =>
    req.path === '/hang'
      ? new Promise<void>((r) => {
          release = r;
        })
      : undefined;
  const runId = await triad.submit({ goal: 'goal:hang', runId: 'crash-cancel' });
  await triad.eventually(() => effects.requests.some((r) => r.path === '/hang'), { what: 'the call to /hang' });
  const control = new RunControl(
    triad.redis,
    triad.store,
    new RunFinisher(triad.store, triad.queues.results),
    new Approvals(new ApprovalStore(triad.redis, triad.prefix), {
      wake: (r, s) => wakeParkedStep(triad.queues.act, r, s),
    }),
  );
  expect(await control.cancel(runId, 'ops@example.com', 'taking too long')).toBe(true);
  const run = await triad.waitForRun(runId);
  expect(run).toMatchObject({ status: 'cancelled', error: { code: 'cancelled' } });
  const observation = await triad.eventually(
    async () => (await triad.events(runId)).find((e) => e.type === 'observation'),
    { what: 'the observation of the cancelled call' },
  );
  expect(observation).toMatchObject({ observation: { ok: false, error: { code: 'cancelled' } } });
  // The remote side has not answered yet and the tool's own timeout is two minutes: only the cancel explains it.
  release();
  expect((await triad.runFinished(runId)).data).toMatchObject({ runId, status: 'cancelled' });
});

it('uses a secret-marked argument but keeps it out of the run events and the model’s replay', async () => {
  const run = await triad.waitForRun(await triad.submit({ goal: 'goal:secret', runId: 'crash-secret' }));
  expect(run).toMatchObject({ status: 'succeeded', answer: 'Read it: HTTP 200.' });
  expect(effects.requests.find((r) => r.path === '/private')?.authorization).toBe(`Bearer ${SECRET}`);
  const events = await triad.events(run.id);
  expect(JSON.stringify(events)).not.toContain(SECRET);
  expect(events.find((e) => e.type === 'tool.called')).toMatchObject({
    arguments: expect.stringContaining('[redacted]'),
  });
  const replay = triad.model.requests.filter(
    (r) => r.script !== null && JSON.stringify(r.body).includes('goal:secret'),
  );
  expect(replay.length).toBeGreaterThanOrEqual(2);
  expect(JSON.stringify(replay.slice(1).map((r) => r.body))).not.toContain(SECRET);
});

const liveExecutors = () =>
  triad.services.filter((s) => s.role === 'executor' && s.child.exitCode === null && s.child.signalCode === null);

it('lets the in-flight step finish on SIGTERM before the executor exits', async () => {
  const [victim] = liveExecutors();
  let stopping: Promise<void> | undefined;
  effects.onRequest = async (req) => {
    if (req.path !== '/slow') return;
    stopping = victim.stop(30_000); // SIGTERM while the call is in flight...
    await new Promise((r) => setTimeout(r, 1_500)); // ...which takes a while longer to answer
  };
  const runId = await triad.submit({ goal: 'goal:drain', runId: 'crash-sigterm' });
  // Wrapped: `eventually` would await the promise itself.
  const sigterm = await triad.eventually(() => stopping && { stopping }, {
    what: 'a SIGTERM during the call to /slow',
  });
  await sigterm.stopping;
  expect(await victim.exited).toBe(0);
  // The stopped executor recorded the step it had started; no other executor ran it again.
  const observations = (await triad.events(runId)).filter((e) => e.type === 'observation');
  expect(observations).toEqual([
    expect.objectContaining({
      executor: victim.name,
      observation: {
        ok: true,
        data: {
          url: `${effects.url}/slow`,
          status: 200,
          headers: { 'content-type': 'application/json' },
          body: '{"ok":true}',
          truncated: false,
        },
      },
    }),
  ]);
  await triad.spawn('executor', 'executor-3');
  expect(await triad.waitForRun(runId)).toMatchObject({ status: 'succeeded', answer: 'Drained: HTTP 200.' });
  expect(effects.requests.filter((r) => r.path === '/slow')).toHaveLength(1);
});

it('fails the run of a step that takes down every executor running it, after three deliveries', async () => {
  let deliveries = 0;
  effects.onRequest = async (req) => {
    if (req.path !== '/poison') return;
    deliveries++;
    for (const executor of liveExecutors()) await executor.kill();
    await triad.spawn('executor', `executor-poisoned-${deliveries}`);
  };
  const runId = await triad.submit({ goal: 'goal:poison', runId: 'crash-poison' });
  const run = await triad.waitForRun(runId, 150_000);
  expect(run).toMatchObject({
    status: 'failed',
    error: {
      code: 'internal_error',
      message: expect.stringMatching(/^act step failed: job stalled more than allowable limit/),
    },
  });
  expect(deliveries).toBe(3); // the first delivery and two more after stalls, then no more
  expect((await triad.runFinished(runId)).data).toMatchObject({ runId, status: 'failed' });
}, 200_000);
