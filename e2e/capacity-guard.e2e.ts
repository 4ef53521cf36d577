// The capacity guard against a Redis with a small maxmemory: a filler key pushes memory past TRIAD_REDIS_MEMORY_HIGH,
// intake pauses (the gateway answers 503 with Retry-After, a goal enqueued straight to the queue waits, /readyz and
// the metric say why) while a run in flight finishes; the filler goes, intake resumes and the waiting goal runs.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { parseRedisMemory } from '@triad/shared';
import { freePort } from '../cli/src/stack/local-redis.js';
import { EffectServer } from './support/effect-server.js';
import { GatewayClient } from './support/gateway-harness.js';
import { PrivateRedis } from './support/private-redis.js';
import { acceptedScript, httpPost } from './support/scripts.js';
import { TriadHarness } from './support/triad-harness.js';

const MAXMEMORY = 16 * 1024 * 1024;
const HIGH = 0.8;
/** Where the filler puts used memory: above the threshold, well below Redis's own limit (writes still succeed). */
const FILLED = 0.88;

let redis: PrivateRedis;
let triad: TriadHarness;
let gw: GatewayClient;
let effects: EffectServer;
let plannerMetrics: string;
let gatewayMetrics: string;
/** Held shut so the first run is still in flight (its tool call unanswered) when intake pauses. */
let gate: Promise<void> = Promise.resolve();

beforeAll(async () => {
  redis = await PrivateRedis.start([
    '--appendonly',
    'no',
    '--maxmemory',
    String(MAXMEMORY),
    '--maxmemory-policy',
    'noeviction',
  ]);
  effects = await EffectServer.start();
  effects.onRequest = () => gate;
  triad = await TriadHarness.start({
    redisUrl: redis.url(),
    executors: 1,
    env: {
      TRIAD_REDIS_MEMORY_HIGH: String(HIGH),
      TRIAD_HTTP_ALLOW_HOSTS: '127.0.0.1',
      TRIAD_JUDGE_POLICY: 'checks',
    },
    scenario: {
      scripts: [
        acceptedScript('inflight', [
          { content: 'Write.', toolCalls: [httpPost('w', `${effects.url}/write`)] },
          { content: 'Wrote {{tool:w.data.status}}.' },
        ]),
        acceptedScript('quick', [{ content: 'Done at once.' }]),
      ],
    },
  });
  // The planner again, with a metrics port of its own.
  const [plannerPort, gatewayPort] = [await freePort(), await freePort()];
  const planner = triad.services.find((s) => s.name === 'planner');
  await planner?.stop();
  triad.services = triad.services.filter((s) => s !== planner);
  await triad.spawn('planner', 'planner', { TRIAD_METRICS_PORT: String(plannerPort) });
  plannerMetrics = `http://127.0.0.1:${plannerPort}/metrics`;
  gw = await GatewayClient.start(triad, { TRIAD_METRICS_PORT: String(gatewayPort) });
  gatewayMetrics = `http://127.0.0.1:${gatewayPort}/metrics`;
}, 180_000);

afterAll(async () => {
  await triad?.stop();
  await effects?.close();
  await redis?.stop();
});

/** A gauge's value in a Prometheus text, or null when it is not there. */
async function gauge(url: string, name: string): Promise<number | null> {
  const text = await (await fetch(url)).text();
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)(?: \\d+)?$`, 'm').exec(text);
  return m ? Number(m[1]) : null;
}

const submit = (body: unknown) => gw.call('POST', '/v1/runs', { body });
const readyz = () => gw.call('GET', '/readyz');

it('pauses intake while Redis memory is high, lets runs in flight finish, and resumes below the threshold', async () => {
  // Open: a run goes in through the gateway and stays in flight, its tool call held.
  let open: () => void = () => {};
  gate = new Promise((r) => {
    open = r;
  });
  expect((await submit({ goal: 'goal:inflight', runId: 'in-flight' })).status).toBe(202);
  await triad.eventually(() => effects.requestsTo('/write').length > 0, { what: 'the in-flight run to call its tool' });
  const before = await readyz();
  expect(before.status).toBe(200);
  expect(before.body.info.intake).toMatchObject({ status: 'up', paused: false, threshold: HIGH });
  expect(await gauge(plannerMetrics, 'triad_intake_paused')).toBe(0);

  // A filler key (SETRANGE: no large command buffer) takes used memory to FILLED of maxmemory.
  const memory = parseRedisMemory(await triad.redis.info('memory'));
  expect(memory?.maxBytes).toBe(MAXMEMORY);
  const fill = Math.round(FILLED * MAXMEMORY - (memory?.usedBytes ?? 0));
  await triad.redis.setrange('filler', fill, 'x');

  // Paused: the gateway says so in /readyz (still 200: reads, cancels and approvals go on) and both metrics do.
  const paused = await triad.eventually(
    async () => {
      const r = await readyz();
      return r.body?.info?.intake?.paused === true && r;
    },
    { what: '/readyz to report intake paused' },
  );
  expect(paused.status).toBe(200);
  expect(paused.body.status).toBe('ok');
  expect(paused.body.info.intake.reason).toMatch(/^redis memory high: \d+\.\d% of maxmemory used/);
  expect(paused.body.info.intake.usedFraction).toBeGreaterThanOrEqual(HIGH);
  await triad.eventually(async () => (await gauge(plannerMetrics, 'triad_intake_paused')) === 1, {
    what: "the planner's triad.intake.paused to be 1",
  });
  expect(await gauge(gatewayMetrics, 'triad_intake_paused')).toBe(1);
  expect(await gauge(plannerMetrics, 'triad_redis_memory_usage')).toBeGreaterThanOrEqual(HIGH);

  // The gateway refuses new runs: 503 in the API's error shape, with Retry-After, and nothing was enqueued.
  const refused = await submit({ goal: 'goal:quick', runId: 'refused' });
  expect(refused.status).toBe(503);
  expect(refused.headers.get('retry-after')).toBe('30');
  expect(refused.body.error).toMatchObject({ code: 'service_unavailable' });
  expect(refused.body.error.message).toMatch(/intake is paused/);
  expect(await triad.queues.goals.getJob('goal-refused')).toBeUndefined();
  // Reads still work.
  expect((await gw.call('GET', '/v1/runs/in-flight')).status).toBe(200);

  // A goal enqueued straight to the queue by another system waits there.
  await triad.submit({ goal: 'goal:quick', runId: 'waited' }, 'goal-waited');
  // The run in flight goes on and ends: the planner keeps working (its next plan job came after the goal).
  open();
  const inFlight = await triad.waitForRun('in-flight');
  expect(inFlight).toMatchObject({ status: 'succeeded', answer: 'Wrote 200.' });
  // A planner whose fetch was blocked when intake paused takes the goal and hands it straight back: waited for.
  const waiting = await triad.eventually(
    async () => {
      const job = await triad.queues.goals.getJob('goal-waited');
      return ['waiting', 'prioritized'].includes((await job?.getState()) ?? '') && job;
    },
    { what: 'the goal enqueued while paused to be waiting on the queue' },
  );
  expect(waiting.failedReason).toBeFalsy();
  expect(waiting.attemptsMade).toBe(0);
  expect(await triad.store.get('waited')).toBeNull();
  expect((await readyz()).body.info.intake.paused).toBe(true);

  // The filler goes: intake resumes, the waiting goal runs to its end, and the gateway takes runs again.
  await triad.redis.del('filler');
  const waited = await triad.waitForRun('waited');
  expect(waited).toMatchObject({ status: 'succeeded', answer: 'Done at once.' });
  await triad.eventually(async () => (await readyz()).body?.info?.intake?.paused === false, {
    what: '/readyz to report intake open',
  });
  const accepted = await submit({ goal: 'goal:quick', runId: 'after' });
  expect(accepted.status).toBe(202);
  expect(await triad.waitForRun('after')).toMatchObject({ status: 'succeeded' });
  expect(await gauge(plannerMetrics, 'triad_intake_paused')).toBe(0);
  expect(await triad.queues.goals.getJobCounts('failed')).toEqual({ failed: 0 });
}, 240_000);
