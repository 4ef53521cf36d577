// Typed results: a goal with an outputSchema gets its final answer as structured output, validated by the judge (Ajv);
// a wrong shape goes back with a critique naming each failing path; a run that never gets it right fails
// `output_invalid`; a schema outside the strict subset is refused at intake, by the gateway and for a plain producer.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { RunFinished, storeRunId } from '@triad/shared';
import type { Turn } from '@triad/testing';
import { WatchedChild } from './support/child-process.js';
import { EffectServer } from './support/effect-server.js';
import { GatewayClient } from './support/gateway-harness.js';
import { ACCEPT, calc } from './support/scripts.js';
import { REDIS_URL, TriadHarness } from './support/triad-harness.js';

const SCHEMA = {
  type: 'object',
  properties: {
    product: { type: 'integer' },
    unit: { type: 'string', enum: ['apples', 'pears'] },
    note: { type: ['string', 'null'] },
  },
  required: ['product', 'unit', 'note'],
  additionalProperties: false,
};

// The first output has the wrong type at /product, an unknown /unit and no /note.
const WRONG: Turn = { output: { product: '{{tool:m.data.result}}', unit: 'plums' } };
const RIGHT: Turn = { output: { product: 42, unit: 'apples', note: null } };

const script = (name: string, planner: Turn[]) => ({
  name,
  match: `goal:${name}`,
  turnBy: { planner: 'assistantMessages' as const, judge: 'lastMessage' as const },
  turns: { planner, judge: [ACCEPT] },
});

const KEY = 'k-typed-1';
let triad: TriadHarness;
let gw: GatewayClient;
let receiver: EffectServer;
beforeAll(async () => {
  receiver = await EffectServer.start();
  triad = await TriadHarness.start({
    executors: 1,
    // The result webhook's receiver is on loopback, which webhooks may not reach otherwise.
    env: { TRIAD_WEBHOOK_ALLOW_HOSTS: '127.0.0.1', TRIAD_WEBHOOK_SECRET: 'typed-secret' },
    scenario: {
      scripts: [
        script('typed', [{ content: 'Multiply.', toolCalls: [calc('m', '6 * 7')] }, WRONG, RIGHT]),
        script('never', [WRONG, WRONG, RIGHT]),
      ],
    },
  });
  gw = await GatewayClient.start(triad, { TRIAD_API_KEYS: `typed-bot:${KEY}:submit+read` });
});
afterAll(async () => {
  await triad?.stop();
  await receiver?.close();
});

/** Runs the plain bullmq producer with this goal; its run.finished. */
async function produce(goal: Record<string, unknown>): Promise<RunFinished> {
  const child = spawn(
    process.execPath,
    ['e2e/fixtures/typed-producer.mjs', REDIS_URL, triad.prefix, JSON.stringify(goal)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const { code, stdout, stderr } = await new WatchedChild(child).exit({
    what: 'the plain producer to receive run.finished',
    context: () => triad.serviceLogs(),
  });
  expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  return RunFinished.parse(JSON.parse(stdout.trim()));
}

describe('typed results', () => {
  it('a plain producer gets the output object after the judge sent a wrong shape back naming each path', async () => {
    const callbackUrl = `${receiver.url}/typed`;
    const finished = await produce({
      goal: 'goal:typed — 6 times 7, as data',
      runId: 'typed-1',
      outputSchema: SCHEMA,
      callbackUrl,
    });
    expect(finished).toMatchObject({ runId: 'typed-1', status: 'succeeded', error: null, iterations: 3 });
    expect(finished.output).toEqual({ product: 42, unit: 'apples', note: null });
    expect(JSON.parse(finished.answer as string)).toEqual(finished.output);

    const events = await triad.store.events(storeRunId('default', 'typed-1'));
    const critique = events.find((e) => e.type === 'reflection' && e.iteration === 2);
    expect(critique?.type === 'reflection' && critique.text).toEqual(
      expect.stringContaining('/product: must be integer'),
    );
    expect(critique?.type === 'reflection' && critique.text).toEqual(
      expect.stringContaining('/unit: must be one of ["apples","pears"]'),
    );
    expect(critique?.type === 'reflection' && critique.text).toEqual(expect.stringContaining('/note: is required'));
    const verdicts = events.flatMap((e) => (e.type === 'verdict' ? [e.decision] : []));
    expect(verdicts).toEqual(['continue', 'reject', 'accept']);

    // The planner asked for strict structured output against the goal's schema; the judge's model saw only the valid one.
    const planner = triad.model.requestsFor('planner').filter((r) => JSON.stringify(r.body).includes('goal:typed'));
    expect(planner).toHaveLength(3);
    for (const r of planner) {
      expect(r.body.response_format).toEqual({
        type: 'json_schema',
        json_schema: { name: 'final_answer', schema: SCHEMA, strict: true },
      });
    }
    const judged = triad.model.requestsFor('judge').filter((r) => JSON.stringify(r.body).includes('goal:typed'));
    expect(judged).toHaveLength(1);

    // The API and the result webhook carry the same output.
    const run = await gw.call('GET', '/v1/runs/typed-1', { key: KEY });
    expect(run.body).toMatchObject({ status: 'succeeded', output: { product: 42, unit: 'apples', note: null } });
    const [hook] = await triad.eventually(
      async () => receiver.requestsTo('/typed').length > 0 && receiver.requestsTo('/typed'),
      {
        what: 'the result webhook of run typed-1',
      },
    );
    expect(RunFinished.parse(JSON.parse(hook?.body ?? '')).output).toEqual(finished.output);
  });

  it('a run whose answers never match the schema ends failed with output_invalid', async () => {
    const submitted = await gw.call('POST', '/v1/runs', {
      key: KEY,
      body: { goal: 'goal:never — as data', runId: 'never-1', outputSchema: SCHEMA, budget: { maxIterations: 2 } },
    });
    expect(submitted.status).toBe(202);
    const run = await triad.eventually(
      async () => {
        const r = await gw.call('GET', '/v1/runs/never-1', { key: KEY });
        // 404 until a planner has taken the goal in.
        return r.status === 200 && r.body.status !== 'running' && r.body;
      },
      { what: 'run never-1 to end' },
    );
    expect(run).toMatchObject({ status: 'failed', answer: null, error: { code: 'output_invalid' } });
    expect(run.output ?? null).toBeNull();
    expect(run.error.message).toContain('/product: must be integer');
    // No judge model call was spent on an answer of the wrong shape.
    expect(triad.model.requestsFor('judge').filter((r) => JSON.stringify(r.body).includes('goal:never'))).toEqual([]);
  });
});

describe('typed results: intake', () => {
  const outside = {
    type: 'object',
    properties: { email: { type: 'string', format: 'email' }, tags: { type: 'array' }, n: { type: 'number' } },
    required: ['email', 'tags'],
  };

  it('the gateway answers 400 naming each path where the schema leaves the strict subset', async () => {
    const res = await gw.call('POST', '/v1/runs', { key: KEY, body: { goal: 'x', outputSchema: outside } });
    expect(res.status).toBe(400);
    expect(res.body.error.issues.map((i: { path: string }) => i.path).sort()).toEqual([
      'outputSchema.additionalProperties',
      'outputSchema.properties.email.format',
      'outputSchema.properties.tags',
      'outputSchema.required',
    ]);
    const notObject = await gw.call('POST', '/v1/runs', {
      key: KEY,
      body: { goal: 'x', outputSchema: { type: 'string' } },
    });
    expect(notObject.status).toBe(400);
    expect(notObject.body.error.issues).toEqual([
      { path: 'outputSchema', message: 'the root must be a schema of `type: "object"`' },
    ]);
  });

  it('a plain producer with such a schema gets a failed run with invalid_goal naming the paths', async () => {
    const finished = await produce({ goal: 'goal:typed', runId: 'bad-schema-1', outputSchema: outside });
    expect(finished).toMatchObject({ runId: 'bad-schema-1', status: 'failed', output: null });
    expect(finished.error?.code).toBe('invalid_goal');
    expect(finished.error?.message).toContain('outputSchema.properties.email.format');
    expect(finished.error?.message).toContain('outputSchema.additionalProperties: must be false');
  });
});
