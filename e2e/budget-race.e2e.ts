// Budgets hold across racing executors: with maxToolCalls 3, one reply of 20 side-effecting calls spread over three
// executor processes makes exactly 3 real POSTs, and the other 17 calls are refused with budget_exceeded. A reply
// may not ask for more calls than TRIAD_MAX_CALLS_PER_REPLY: the excess is refused, never queued.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { jobIds, type StoredRunEvent } from '@triad/shared';
import { EffectServer } from './support/effect-server.js';
import { ACCEPT, acceptedScript, httpPost } from './support/scripts.js';
import { TriadHarness } from './support/triad-harness.js';

const RACE_CALLS = 20;
const MAX_PER_REPLY = 20;
const CAP_CALLS = 24;

let triad: TriadHarness;
let effects: EffectServer;

beforeAll(async () => {
  effects = await EffectServer.start();
  const posts = (name: string, n: number) =>
    Array.from({ length: n }, (_, i) => httpPost(`${name}${i}`, `${effects.url}/${name}/${i}`));
  triad = await TriadHarness.start({
    executors: 3,
    env: {
      TRIAD_HTTP_ALLOW_HOSTS: '127.0.0.1',
      TRIAD_EXECUTOR_CONCURRENCY: '8',
      TRIAD_MAX_CALLS_PER_REPLY: String(MAX_PER_REPLY),
    },
    scenario: {
      scripts: [
        acceptedScript(
          'race',
          [{ content: 'Post twenty times.', toolCalls: posts('race', RACE_CALLS) }, { content: 'Never reached.' }],
          [ACCEPT],
        ),
        acceptedScript(
          'cap',
          [{ content: 'Post too many times.', toolCalls: posts('cap', CAP_CALLS) }, { content: 'Posted.' }],
          [ACCEPT],
        ),
      ],
    },
  });
});
afterAll(async () => {
  await triad?.stop();
  await effects?.close();
});

const observations = (events: StoredRunEvent[]) => events.flatMap((e) => (e.type === 'observation' ? [e] : []));
const codes = (events: StoredRunEvent[]) =>
  observations(events).map((o) => (o.observation.ok ? 'ok' : o.observation.error.code));
const count = (items: string[], item: string) => items.filter((i) => i === item).length;
/** Requests the effect server received for one run (the Idempotency-Key is `<runId>/<stepId>`). */
const requestsOf = (runId: string) => effects.requests.filter((r) => r.idempotencyKey?.startsWith(`${runId}/`));

describe('budget race', () => {
  it('maxToolCalls 3 and 20 calls over 3 executors: exactly 3 effects, 17 budget_exceeded, three runs at once', async () => {
    const ids = ['race-1', 'race-2', 'race-3'];
    await Promise.all(ids.map((runId) => triad.submit({ goal: 'goal:race', runId, budget: { maxToolCalls: 3 } })));
    for (const id of ids) {
      const run = await triad.waitForRun(id);
      const events = await triad.events(id);
      expect(run.status).toBe('budget_exceeded');
      const c = codes(events);
      expect(c).toHaveLength(RACE_CALLS);
      expect(count(c, 'ok')).toBe(3);
      expect(count(c, 'budget_exceeded')).toBe(RACE_CALLS - 3);
      expect(requestsOf(id)).toHaveLength(3);
      expect(run.usage.toolCalls).toBe(3);
    }
  });

  it(`refuses the calls of one reply beyond TRIAD_MAX_CALLS_PER_REPLY (${MAX_PER_REPLY}) and never queues them`, async () => {
    const run = await triad.waitForRun(await triad.submit({ goal: 'goal:cap', runId: 'cap-1' }));
    expect(run.status).toBe('succeeded');
    const obs = observations(await triad.events(run.id));
    expect(obs).toHaveLength(CAP_CALLS);
    const refused = obs.filter((o) => !o.observation.ok);
    expect(refused.map((o) => o.stepId).sort()).toEqual(['1-20', '1-21', '1-22', '1-23']);
    for (const o of refused) {
      expect(o.observation).toEqual({
        ok: false,
        error: { code: 'too_many_calls', message: expect.stringMatching(/at most 20 tool calls/), retryable: false },
      });
      expect(await triad.queues.act.getJob(jobIds.act(run.id, o.stepId))).toBeUndefined();
    }
    expect(requestsOf(run.id)).toHaveLength(MAX_PER_REPLY);
    expect(run.usage.toolCalls).toBe(MAX_PER_REPLY);
  });
});
