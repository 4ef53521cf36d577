// The goal's tool allow-list is enforced by the executor, whatever the model asks for: a call of a tool the goal
// did not allow is refused with `tool_not_allowed` before its arguments are read, so no file is written, no POST
// arrives, memory stays as it was and no MCP server is called. `tools: []` allows no tool at all.
import { access, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DEFAULT_TENANT, type StoredRunEvent } from '@triad/shared';
import type { ToolCallScript } from '@triad/testing';
import { EffectServer } from './support/effect-server.js';
import { ACCEPT, acceptedScript, FIXTURE_MCP_SERVERS, httpPost } from './support/scripts.js';
import { TriadHarness } from './support/triad-harness.js';

let triad: TriadHarness;
let effects: EffectServer;
let workspace: string;

/** The calls a model asks for, all outside the allow-lists below: a file write, a POST, a global note, MCP. */
const forbidden = (name: string): ToolCallScript[] => [
  { id: `${name}-w`, name: 'write_file', arguments: { path: `${name}.txt`, content: 'escaped', mode: 'create' } },
  httpPost(`${name}-p`, `${effects.url}/${name}`),
  { id: `${name}-r`, name: 'remember', arguments: { key: `${name}-lesson`, value: 'widened', scope: 'global' } },
  { id: `${name}-m`, name: 'mcp_fixture_add', arguments: { a: 2, b: 3 } },
  { id: `${name}-s`, name: 'memorize', arguments: { text: `${name}: widened`, kind: 'lesson', tags: [] } },
];

beforeAll(async () => {
  effects = await EffectServer.start();
  workspace = await mkdtemp(join(tmpdir(), 'triad-allow-list-'));
  triad = await TriadHarness.start({
    executors: 1,
    env: {
      TRIAD_HTTP_ALLOW_HOSTS: '127.0.0.1',
      TRIAD_WORKSPACE: workspace,
      TRIAD_MCP_SERVERS: FIXTURE_MCP_SERVERS,
    },
    scenario: {
      scripts: [
        acceptedScript(
          'calculator-only',
          [
            {
              content: 'Do more than I was allowed.',
              toolCalls: [
                { id: 'calculator-only-c', name: 'calculator', arguments: { expression: '6 * 7' } },
                ...forbidden('calculator-only'),
              ],
            },
            { content: 'Done.' },
          ],
          [ACCEPT],
        ),
        acceptedScript(
          'no-tools',
          [{ content: 'Use tools I was not given.', toolCalls: forbidden('no-tools') }, { content: 'Done.' }],
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
const codeOf = (o: ReturnType<typeof observations>[number]) => (o.observation.ok ? 'ok' : o.observation.error.code);
const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

async function expectNothingHappened(name: string, events: StoredRunEvent[]): Promise<void> {
  const refused = observations(events).filter((o) => o.callId !== `${name}-c`);
  expect(refused.map((o) => [o.tool, codeOf(o)]).sort()).toEqual([
    ['http_post', 'tool_not_allowed'],
    ['mcp_fixture_add', 'tool_not_allowed'],
    ['memorize', 'tool_not_allowed'],
    ['remember', 'tool_not_allowed'],
    ['write_file', 'tool_not_allowed'],
  ]);
  for (const o of refused) {
    expect(!o.observation.ok && o.observation.error.message).toMatch(/not allowed/);
  }
  expect(await exists(join(workspace, `${name}.txt`))).toBe(false);
  expect(effects.requests.filter((r) => r.path.startsWith(`/${name}`))).toHaveLength(0);
  expect(await triad.redis.hexists(`${triad.prefix}:memory`, `${name}-lesson`)).toBe(0);
  // No run of this suite stores anything in the semantic memory.
  expect(await triad.redis.zcard(triad.store.keys.memoryByCreation(DEFAULT_TENANT))).toBe(0);
}

describe('tool allow-list', () => {
  it('runs only the allowed calculator; every other call is refused with tool_not_allowed', async () => {
    const run = await triad.waitForRun(
      await triad.submit({ goal: 'goal:calculator-only', runId: 'allow-calculator', tools: ['calculator'] }),
    );
    expect(run.status).toBe('succeeded');
    const events = await triad.events(run.id);
    const calc = observations(events).find((o) => o.callId === 'calculator-only-c');
    expect(calc?.observation).toEqual({ ok: true, data: expect.objectContaining({ result: 42 }) });
    await expectNothingHappened('calculator-only', events);
    // Refused calls never ran: only the calculator counts against the budget.
    expect(run.usage.toolCalls).toBe(1);
  });

  it('tools: [] allows no tool at all', async () => {
    const run = await triad.waitForRun(await triad.submit({ goal: 'goal:no-tools', runId: 'allow-none', tools: [] }));
    expect(run.status).toBe('succeeded');
    await expectNothingHappened('no-tools', await triad.events(run.id));
    expect(run.usage.toolCalls).toBe(0);
  });
});
