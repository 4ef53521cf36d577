// Chaos: many runs in flight while planner, executor and judge processes are killed with SIGKILL at random and
// replaced. Every run must end, none may be lost, no side effect may happen twice, nothing may stay queued.
// The suite runs a bounded configuration; `npm run chaos` runs a larger one (CHAOS_RUNS, CHAOS_KILLS, CHAOS_SEED).
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { ServiceProcess, ServiceRole } from '../cli/src/stack/service-processes.js';
import { EffectServer } from './support/effect-server.js';
import { acceptedScript, httpPost } from './support/scripts.js';
import { TriadHarness } from './support/triad-harness.js';

const RUNS = Number(process.env.CHAOS_RUNS ?? 24);
const KILLS = Number(process.env.CHAOS_KILLS ?? 8);
const SEED = Number(process.env.CHAOS_SEED ?? Date.now() % 100_000);
const ROLES: ServiceRole[] = ['planner', 'executor', 'judge'];

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
          ...acceptedScript('chaos', [
            { content: 'Reserve and notify.', toolCalls: [post('a', 'reserve'), post('b', 'notify')] },
            { content: 'Then charge.', toolCalls: [post('c', 'charge')] },
            { content: 'Reserved {{tool:a.data.status}}, charged {{tool:c.data.status}}.' },
          ]),
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

it(`ends every run of ${RUNS}, with each side effect once, while processes are killed ${KILLS} times`, async () => {
  const started = Date.now();
  const runIds = Array.from({ length: RUNS }, (_, i) => `chaos-${i}`);
  // Goals arrive over the whole kill schedule (about 1.5 s between kills), so every kill finds work in flight.
  const submitted = (async () => {
    for (const runId of runIds) {
      await triad.submit({ goal: 'goal:chaos', runId });
      await new Promise((r) => setTimeout(r, (KILLS * 1_500) / RUNS));
    }
  })();
  const killed: ServiceProcess[] = [];
  for (let k = 1; k <= KILLS; k++) {
    await new Promise((r) => setTimeout(r, 500 + random() * 2_000));
    const role = ROLES[Math.floor(random() * ROLES.length)];
    const live = triad.services.filter((s) => s.role === role && s.child.exitCode === null && !s.child.signalCode);
    const victim = live[Math.floor(random() * live.length)];
    await victim.kill();
    triad.services = triad.services.filter((s) => s !== victim);
    killed.push(victim);
    await triad.spawn(role, `${role}-r${k}`);
  }
  await submitted;
  const runs = await Promise.all(runIds.map((id) => triad.waitForRun(id, 600_000)));
  const took = ((Date.now() - started) / 1000).toFixed(0);
  console.log(
    `chaos seed ${SEED}: ${RUNS} runs in ${took} s, ${runs.filter((r) => r.status === 'succeeded').length} ` +
      `succeeded; ${killed.length} kills (${killed.map((k) => k.name).join(', ')}); ${effects.requests.length} ` +
      `remote calls for ${RUNS * STEPS.length} effects, ${effects.effects.size} applied`,
  );

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
  expect(await triad.queues.results.getJobCounts('waiting', 'completed')).toMatchObject({ waiting: RUNS });

  // Nothing left behind: the step queues drain (redelivered steps of ended runs are dropped as no-ops).
  await expect(drained()).resolves.toEqual({ plan: 0, act: 0, judge: 0 });
  for (const s of [...killed, ...triad.services]) expect(s.output()).not.toMatch(/unhandled|uncaught/i);
}, 900_000);

async function drained(timeoutMs = 60_000): Promise<Record<string, number>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left: Record<string, number> = {};
    for (const name of ['plan', 'act', 'judge'] as const) {
      const c = await triad.queues[name].getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'failed');
      left[name] = Object.values(c).reduce((a, b) => a + b, 0);
    }
    if (Object.values(left).every((n) => n === 0) || Date.now() > deadline) return left;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** A small seeded PRNG, so a failing chaos schedule can be replayed with CHAOS_SEED. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
