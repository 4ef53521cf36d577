// A private redis-server with append-only persistence is killed and started again while runs are in flight:
// the services reconnect by themselves and every run ends well, each side effect once.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { EffectServer } from './support/effect-server.js';
import { PrivateRedis } from './support/private-redis.js';
import { acceptedScript, httpPost } from './support/scripts.js';
import { TriadHarness } from './support/triad-harness.js';

const RUNS = 16;
let redis: PrivateRedis;
let triad: TriadHarness;
let effects: EffectServer;

/** Held shut while Redis goes down: a run whose tool calls cannot answer cannot end, so the kill finds it mid-run. */
let gate: Promise<void> = Promise.resolve();

beforeAll(async () => {
  redis = await PrivateRedis.start();
  effects = await EffectServer.start();
  effects.onRequest = async () => {
    await gate;
    await new Promise((r) => setTimeout(r, 100 + Math.random() * 400));
  };
  const post = (id: string, what: string) => httpPost(id, `${effects.url}/${what}`);
  triad = await TriadHarness.start({
    redisUrl: redis.url(),
    executors: 2,
    env: { TRIAD_HTTP_ALLOW_HOSTS: '127.0.0.1' },
    scenario: {
      scripts: [
        {
          ...acceptedScript('restart', [
            { content: 'Two writes.', toolCalls: [post('a', 'one'), post('b', 'two')] },
            { content: 'One more.', toolCalls: [post('c', 'three')] },
            { content: 'Wrote {{tool:c.data.status}}.' },
          ]),
          turnBy: { planner: 'assistantMessages', judge: 'assistantMessages' },
        },
      ],
    },
  });
}, 120_000);

afterAll(async () => {
  await triad?.stop();
  await effects?.close();
  await redis?.stop();
});

it('loses no run when Redis is killed and restarted mid-load', async () => {
  const runIds = Array.from({ length: RUNS }, (_, i) => `restart-${i}`);
  const early = runIds.slice(0, RUNS / 2);
  let open: () => void = () => {};
  gate = new Promise((r) => {
    open = r;
  });
  for (const runId of early) await triad.submit({ goal: 'goal:restart', runId });
  // Wait until work is in flight: every early run taken in and running, tool calls reaching the remote system.
  const atKill = await triad.eventually(
    async () => {
      const runs = await Promise.all(early.map((id) => triad.store.get(id)));
      const taken = runs.every((r) => r?.status === 'running');
      return taken && effects.requests.length >= 4 && runs.map((r) => [r?.id, r?.status]);
    },
    { what: 'every early run running with tool calls in flight' },
  );

  await redis.kill();
  // The runs were unfinished when Redis died: running just before, and none could end since (its calls are held).
  expect(atKill).toEqual(early.map((id) => [id, 'running']));
  await new Promise((r) => setTimeout(r, 2_000)); // down long enough for every connection to notice
  await redis.restart();
  open();
  for (const runId of runIds.slice(RUNS / 2)) await triad.submit({ goal: 'goal:restart', runId });

  const runs = await Promise.all(runIds.map((id) => triad.waitForRun(id, 120_000)));
  expect(runs.map((r) => [r.id, r.status, r.answer])).toEqual(runIds.map((id) => [id, 'succeeded', 'Wrote 200.']));
  const keys = runIds.flatMap((id) => ['1-0', '1-1', '2-0'].map((s) => `${id}/${s}`));
  expect(new Set(effects.requests.map((r) => r.idempotencyKey))).toEqual(new Set(keys));
  expect(effects.effects.size).toBe(keys.length);
  // Every service is still the process it was: none had to be restarted to reconnect.
  expect(triad.services.filter((s) => s.child.exitCode !== null).map((s) => s.name)).toEqual([]);
}, 240_000);
