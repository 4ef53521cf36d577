// Chaos: many runs in flight while planner, executor and judge processes are killed with SIGKILL and replaced.
// Each kill waits for a role with a step in hand and kills a process of that role, so kills interrupt work; the
// test proves they did (steps taken over after a stall). Every run must end, none may be lost, no side effect may
// happen twice, nothing may stay queued.
// The suite runs a bounded configuration; `npm run chaos` runs a larger one (CHAOS_RUNS, CHAOS_KILLS, CHAOS_SEED).
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { MAX_STALLED_COUNT } from '@triad/shared';
import { mulberry32 } from '@triad/testing';
import type { Queue } from 'bullmq';
import type { ServiceProcess, ServiceRole } from '../cli/src/stack/service-processes.js';
import { EffectServer } from './support/effect-server.js';
import { ACCEPT, acceptedScript, httpPost } from './support/scripts.js';
import { TriadHarness } from './support/triad-harness.js';

const RUNS = Number(process.env.CHAOS_RUNS ?? 24);
const KILLS = Number(process.env.CHAOS_KILLS ?? 8);
const SEED = Number(process.env.CHAOS_SEED ?? Date.now() % 100_000);
const ROLES = ['planner', 'executor', 'judge'] as const satisfies ServiceRole[];
type Role = (typeof ROLES)[number];
/** The queues whose steps each role runs. */
const QUEUES_OF: Record<Role, (keyof TriadHarness['queues'])[]> = {
  planner: ['goals', 'plan'],
  executor: ['act'],
  judge: ['judge'],
};
/** The model takes a while to answer, so planner and judge hold each step long enough to be caught at it. */
const MODEL_DELAY_MS = 300;

/** Tool calls per run, by Idempotency-Key suffix: two parallel calls in iteration 1, one in iteration 2. */
const STEPS = ['1-0', '1-1', '2-0'];

let triad: TriadHarness;
let effects: EffectServer;
const random = mulberry32(SEED);

beforeAll(async () => {
  effects = await EffectServer.start();
  // Remote calls take 20-400 ms, so kills land while tools are in flight.
  effects.onRequest = () => new Promise((r) => setTimeout(r, 20 + random() * 380));
  const post = (id: string, what: string) => httpPost(id, `${effects.url}/${what}`, `{"what":"${what}"}`);
  triad = await TriadHarness.start({
    executors: 2,
    env: { TRIAD_HTTP_ALLOW_HOSTS: '127.0.0.1', TRIAD_JOB_ATTEMPTS: '5' },
    scenario: {
      scripts: [
        {
          ...acceptedScript(
            'chaos',
            [
              {
                content: 'Reserve and notify.',
                toolCalls: [post('a', 'reserve'), post('b', 'notify')],
                delayMs: MODEL_DELAY_MS,
              },
              { content: 'Then charge.', toolCalls: [post('c', 'charge')], delayMs: MODEL_DELAY_MS },
              { content: 'Reserved {{tool:a.data.status}}, charged {{tool:c.data.status}}.', delayMs: MODEL_DELAY_MS },
            ],
            [{ ...ACCEPT, delayMs: MODEL_DELAY_MS }],
          ),
          // The judge sees a fresh conversation every time: its first turn, accept, fits every review.
          turnBy: { planner: 'assistantMessages', judge: 'assistantMessages' },
        },
      ],
    },
  });
}, 120_000);

afterAll(async () => {
  await triad?.stop();
  await effects?.close();
});

it(`ends every run of ${RUNS}, with each side effect once, while busy processes are killed ${KILLS} times`, async () => {
  const started = Date.now();
  const runIds = Array.from({ length: RUNS }, (_, i) => `chaos-${i}`);
  const lastKill: Record<Role, number> = { planner: 0, executor: 0, judge: 0 };
  const killed: { proc: ServiceProcess; busyWith: string[] }[] = [];
  let submitted = 0;
  for (let k = 1; k <= KILLS; k++) {
    // Goals arrive over the whole kill schedule, so every kill finds work in flight.
    for (; submitted < Math.ceil((k * RUNS) / KILLS); submitted++) {
      await triad.submit({ goal: 'goal:chaos', runId: runIds[submitted] });
    }
    // A run takes 1.3 s at the least (four model turns of MODEL_DELAY_MS, two remote calls): a random moment inside
    // the first second finds one role or another at work on the runs just sent.
    await new Promise((r) => setTimeout(r, 200 + random() * 800));
    const busy = await triad.eventually(() => busyRoles(lastKill), {
      what: `a busy role for kill ${k}`,
      intervalMs: 20,
    });
    // Of the busy roles, the one killed least so far, so that every role is hit.
    const fewest = Math.min(...busy.map((b) => killCount(killed, b.role)));
    const candidates = busy.filter((b) => killCount(killed, b.role) === fewest);
    const { role, jobs } = candidates[Math.floor(random() * candidates.length)];
    const live = triad.services.filter((s) => s.role === role && s.child.exitCode === null && !s.child.signalCode);
    const victim = live[Math.floor(random() * live.length)];
    await victim.kill();
    lastKill[role] = Date.now();
    triad.services = triad.services.filter((s) => s !== victim);
    killed.push({ proc: victim, busyWith: jobs });
    await triad.spawn(role, `${role}-r${k}`);
  }
  for (; submitted < RUNS; submitted++) await triad.submit({ goal: 'goal:chaos', runId: runIds[submitted] });
  const runs = await Promise.all(runIds.map((id) => triad.waitForRun(id, 600_000)));
  const took = ((Date.now() - started) / 1000).toFixed(0);
  const takenOver = await stalledSteps();
  console.log(
    `chaos seed ${SEED}: ${RUNS} runs in ${took} s, ${runs.filter((r) => r.status === 'succeeded').length} ` +
      `succeeded; ${killed.length} kills (${killed.map((k) => `${k.proc.name} busy with ${k.busyWith.join(' ')}`).join(', ')}); ` +
      `${takenOver.length} steps taken over after a kill (${takenOver.join(', ')}); ${effects.requests.length} ` +
      `remote calls for ${RUNS * STEPS.length} effects, ${effects.effects.size} applied`,
  );

  // The kills interrupted work: steps that a killed process held were taken over by another (BullMQ's stalled
  // check moved them back after the dead worker's lock ran out). A kill of an idle process leaves no such trace.
  expect(takenOver.length).toBeGreaterThanOrEqual(1);

  // Every run ended well: a kill costs time, never the run.
  expect(runs.filter((r) => r.status !== 'succeeded').map((r) => [r.id, r.status, r.error?.message])).toEqual([]);
  expect(new Set(runs.map((r) => r.answer))).toEqual(new Set(['Reserved 200, charged 200.']));

  // Each tool call carried one key however often it was sent, so each effect happened once.
  expect(effects.requests.filter((r) => r.idempotencyKey === null)).toEqual([]);
  const expectedKeys = runIds.flatMap((id) => STEPS.map((s) => `${id}/${s}`));
  expect(new Set(effects.requests.map((r) => r.idempotencyKey))).toEqual(new Set(expectedKeys));
  expect(effects.effects.size).toBe(expectedKeys.length);

  // One observation per tool call in each run's history, and one result per run on the results queue.
  for (const runId of runIds) {
    const steps = (await triad.events(runId)).flatMap((e) => (e.type === 'observation' ? [e.stepId] : []));
    expect({ runId, steps: steps.sort() }).toEqual({ runId, steps: STEPS });
  }
  for (const runId of runIds) await triad.runFinished(runId);
  expect(await triad.queues.results.getJobCounts('waiting', 'completed')).toMatchObject({ waiting: RUNS });

  // Nothing left behind: the step queues drain (redelivered steps of ended runs are dropped as no-ops).
  await triad.eventually(async () => Object.values(await left()).every((n) => n === 0), {
    what: 'the step queues to drain',
    intervalMs: 500,
  });
  await expect(left()).resolves.toEqual({ plan: 0, act: 0, judge: 0 });
  for (const s of [...killed.map((k) => k.proc), ...triad.services]) {
    expect(s.output()).not.toMatch(/unhandled|uncaught/i);
  }
}, 900_000);

/** Jobs not yet done on the step queues. */
async function left(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const name of ['plan', 'act', 'judge'] as const) {
    const c = await triad.queues[name].getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'failed');
    out[name] = Object.values(c).reduce((a, b) => a + b, 0);
  }
  return out;
}

/**
 * Roles with a step in hand now: an active job taken since that role's last kill (so held by a live process, not
 * one left by the dead), and none that one more stall would fail (a third kill of the same step would end its run).
 */
async function busyRoles(lastKill: Record<Role, number>): Promise<{ role: Role; jobs: string[] }[] | false> {
  const busy: { role: Role; jobs: string[] }[] = [];
  for (const role of ROLES) {
    const active = (await Promise.all(QUEUES_OF[role].map((q) => triad.queues[q].getActive()))).flat();
    if (active.some((j) => j.stalledCounter >= MAX_STALLED_COUNT)) continue;
    const fresh = active.filter((j) => (j.processedOn ?? 0) > lastKill[role]);
    if (fresh.length) busy.push({ role, jobs: fresh.map((j) => j.id ?? '?') });
  }
  return busy.length > 0 && busy;
}

const killCount = (killed: { proc: ServiceProcess }[], role: Role) => killed.filter((k) => k.proc.role === role).length;

/** Steps that stalled (their worker died holding them) and were run again by another. */
async function stalledSteps(): Promise<string[]> {
  const queues: Queue[] = [triad.queues.goals, triad.queues.plan, triad.queues.act, triad.queues.judge];
  const jobs = (await Promise.all(queues.map((q) => q.getJobs(['completed', 'failed'])))).flat();
  return jobs.filter((j) => j.stalledCounter > 0).map((j) => `${j.queueName}/${j.id}`);
}
