// Fair scheduling across tenants: tenant `a` (3 runs in flight at most) floods 30 goals of a model that takes its
// time; it never has more than 3 runs in flight, tenant `b`'s goals finish while `a`'s backlog still waits, a
// waiting run that is cancelled never starts, a late urgent goal of `a` starts before earlier ones, and a planner
// killed mid-flood loses no run.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import {
  ApprovalStore,
  Approvals,
  defaultJobOptions,
  duplicateConnection,
  LoopHandOff,
  type RedisClient,
  RunControl,
  RunFinisher,
  type RunRecord,
  TenantScheduler,
  TenantSlots,
  wakeParkedStep,
} from '@triad/shared';
import { FlowProducer } from 'bullmq';
import { ACCEPT } from './support/scripts.js';
import { TriadHarness } from './support/triad-harness.js';

const MODEL_MS = 150;
const CAP = 3;
const LIMITS = { a: { maxRunsInFlight: CAP }, '*': { maxRunsInFlight: 5 } };

let triad: TriadHarness;
let flows: FlowProducer;
let flowsConnection: RedisClient;
let slots: TenantSlots;
let control: RunControl;

beforeAll(async () => {
  triad = await TriadHarness.start({
    env: { TRIAD_TENANT_LIMITS: JSON.stringify(LIMITS) },
    scenario: {
      scripts: [
        {
          name: 'slow',
          match: 'goal:slow',
          turnBy: { planner: 'assistantMessages', judge: 'assistantMessages' },
          turns: { planner: [{ content: 'Done.', delayMs: MODEL_MS }], judge: [{ ...ACCEPT, delayMs: MODEL_MS }] },
        },
      ],
    },
  });
  // An operator's cancel, as the gateway makes it: the finisher gives the run's slot back.
  flowsConnection = duplicateConnection(triad.redis, 'fairness-e2e');
  flows = new FlowProducer({ connection: flowsConnection, prefix: triad.prefix });
  slots = new TenantSlots(triad.redis, triad.prefix);
  const handOff = new LoopHandOff(
    { plan: triad.queues.plan, act: triad.queues.act, judge: triad.queues.judge },
    flows,
    defaultJobOptions(3, 3_600_000),
  );
  const scheduler = new TenantScheduler(slots, triad.store, handOff, { tenantLimits: LIMITS as never });
  const finisher = new RunFinisher(triad.store, triad.queues.results, undefined, scheduler);
  control = new RunControl(
    triad.redis,
    triad.store,
    finisher,
    new Approvals(new ApprovalStore(triad.redis, triad.prefix), {
      wake: (r, s) => wakeParkedStep(triad.queues.act, r, s),
    }),
  );
});
afterAll(async () => {
  await flows?.close();
  flowsConnection?.disconnect();
  await triad?.stop();
});

/** Samples tenant `a`'s runs in flight (its slots, and its run records past `queued`) until stopped. */
function sampleInFlight(runIds: () => string[]) {
  let maxSlots = 0;
  let maxRecords = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      maxSlots = Math.max(maxSlots, (await slots.inFlight('a')).length);
      const p = triad.redis.pipeline();
      for (const id of runIds()) p.hmget(triad.store.keys.run(id), 'status', 'phase');
      const rows = ((await p.exec()) ?? []).map(([, v]) => v as [string | null, string | null]);
      maxRecords = Math.max(maxRecords, rows.filter(([s, ph]) => s === 'running' && ph !== 'queued').length);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return async () => {
    stopped = true;
    await loop;
    return { maxSlots, maxRecords };
  };
}

const admittedAt = async (runId: string) =>
  (await triad.events(runId)).find((e) => e.type === 'run.admitted')?.at ?? Number.POSITIVE_INFINITY;

it('caps a flooding tenant, lets another tenant through, honours priority and cancels a waiting run', async () => {
  const aIds: string[] = [];
  const stop = sampleInFlight(() => aIds);
  for (let i = 0; i < 30; i++) aIds.push(await triad.submit({ goal: 'goal:slow', runId: `a-${i}`, tenant: 'a' }));
  const cancelled = await triad.submit({ goal: 'goal:slow', runId: 'a-cancelled', tenant: 'a' });
  const urgent = await triad.submit({ goal: 'goal:slow', runId: 'a-urgent', tenant: 'a', priority: 1 });
  aIds.push(cancelled, urgent);
  const bIds = await Promise.all(
    [0, 1, 2].map((i) => triad.submit({ goal: 'goal:slow', runId: `b-${i}`, tenant: 'b' })),
  );

  // The cancelled run waits (it is one of the last), then is cancelled before it is given a slot.
  await triad.eventually(async () => (await triad.events(cancelled)).some((e) => e.type === 'run.queued'), {
    what: 'a-cancelled to wait',
  });
  expect(await triad.store.get(cancelled)).toMatchObject({ status: 'running', phase: 'queued' });
  expect(await control.cancel(cancelled, 'ops@example.com', 'not needed')).toBe(true);
  expect(await slots.waiting('a')).not.toContain(cancelled);

  // Tenant b's runs finish while a's backlog still waits.
  for (const id of bIds) expect((await triad.waitForRun(id)).status).toBe('succeeded');
  expect((await slots.waiting('a')).length).toBeGreaterThan(0);

  const runs: RunRecord[] = [];
  for (const id of aIds) runs.push(await triad.waitForRun(id, 120_000));
  const { maxSlots, maxRecords } = await stop();
  expect(maxSlots).toBeLessThanOrEqual(CAP);
  expect(maxRecords).toBeLessThanOrEqual(CAP);
  expect(maxRecords).toBeGreaterThan(0);
  expect(runs.filter((r) => r.id !== cancelled).every((r) => r.status === 'succeeded')).toBe(true);

  // The cancelled run never started: no plan, no model call.
  const cancelledRun = runs.find((r) => r.id === cancelled);
  expect(cancelledRun).toMatchObject({ status: 'cancelled', usage: { modelCalls: 0 } });
  expect((await triad.events(cancelled)).map((e) => e.type)).not.toContain('run.admitted');
  expect(await triad.queues.plan.getJob(`plan-${cancelled}-1`)).toBeFalsy();

  // The urgent goal, submitted after 31 others, waited, then started before most of them (without its priority it
  // would have started after every one of them).
  expect((await triad.events(urgent)).map((e) => e.type)).toContain('run.queued');
  const urgentAt = await admittedAt(urgent);
  expect(urgentAt).toBeLessThan(Number.POSITIVE_INFINITY);
  const earlier = await Promise.all(aIds.slice(0, 30).map(admittedAt));
  expect(earlier.filter((t) => t > urgentAt).length).toBeGreaterThanOrEqual(20);

  await allSlotsFree();
});

/** Every slot of `a` is given back (the last run's slot just after its record ends). */
const allSlotsFree = () =>
  triad.eventually(async () => !(await slots.inFlight('a')).length && !(await slots.waiting('a')).length, {
    what: "tenant a's slots to be free",
  });

it('loses no run when the planner is killed mid-flood', async () => {
  const ids: string[] = [];
  for (let i = 0; i < 20; i++) ids.push(await triad.submit({ goal: 'goal:slow', runId: `k-${i}`, tenant: 'a' }));
  await triad.eventually(async () => (await slots.waiting('a')).length > 0 && (await slots.inFlight('a')).length > 0, {
    what: 'a backlog',
  });
  // Let a few runs end and hand their slots on, then kill the planner (it runs intake, plans and the repair sweep).
  await triad.eventually(
    async () => (await Promise.all(ids.map((id) => triad.store.position(id)))).some((p) => p.status === 'succeeded'),
    { what: 'a first run of the flood to end' },
  );
  const planner = triad.services.find((s) => s.name === 'planner');
  await planner?.kill();
  await triad.spawn('planner', 'planner-2');
  for (const id of ids) expect((await triad.waitForRun(id, 120_000)).status).toBe('succeeded');
  await allSlotsFree();
});
