// Horizontal scaling and tool providers: three executor processes share thirty parallel 300 ms calls, and a tool
// served by an MCP server process (built with the MCP SDK) is used by a run like any built-in tool.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { EffectServer } from './support/effect-server.js';
import { ACCEPT, acceptedScript, FIXTURE_MCP_SERVERS } from './support/scripts.js';
import { TriadHarness } from './support/triad-harness.js';

let triad: TriadHarness;
let slow: EffectServer;
const CALLS = 30;

beforeAll(async () => {
  slow = await EffectServer.start();
  slow.onRequest = () => new Promise((r) => setTimeout(r, 300));
  triad = await TriadHarness.start({
    executors: 3,
    env: {
      TRIAD_HTTP_ALLOW_HOSTS: '127.0.0.1',
      TRIAD_EXECUTOR_CONCURRENCY: '4',
      TRIAD_MCP_SERVERS: FIXTURE_MCP_SERVERS,
    },
    scenario: {
      scripts: [
        acceptedScript(
          'fan-out',
          [
            {
              content: 'Fetch all pages at once.',
              toolCalls: Array.from({ length: CALLS }, (_, i) => ({
                id: `g${i}`,
                name: 'http_get',
                arguments: { url: `${slow.url}/page/${i}`, bearerToken: null },
              })),
            },
            { content: 'Fetched.' },
          ],
          [ACCEPT],
        ),
        acceptedScript(
          'mcp',
          [
            {
              content: 'Use the MCP adder.',
              toolCalls: [{ id: 'm1', name: 'mcp_fixture_add', arguments: { a: 2, b: 3 } }],
            },
            { content: 'The MCP server says {{tool:m1.data.content}}.' },
          ],
          [ACCEPT],
        ),
      ],
    },
  });
});
afterAll(async () => {
  await triad?.stop();
  await slow?.close();
});

it('spreads thirty parallel slow calls over all three executors', async () => {
  const run = await triad.waitForRun(await triad.submit({ goal: 'goal:fan-out', runId: 'scale-fan-out' }));
  expect(run.status).toBe('succeeded');
  const observations = (await triad.events(run.id)).flatMap((e) => (e.type === 'observation' ? [e] : []));
  expect(observations).toHaveLength(CALLS);
  expect(observations.filter((o) => !o.observation.ok)).toEqual([]);
  const perExecutor = new Map<string, number>();
  for (const o of observations) perExecutor.set(o.executor, (perExecutor.get(o.executor) ?? 0) + 1);
  expect([...perExecutor.keys()].sort()).toEqual(['executor-1', 'executor-2', 'executor-3']);
  expect(slow.requests.filter((r) => r.path.startsWith('/page/'))).toHaveLength(CALLS);
});

it('runs a tool served by an MCP server process', async () => {
  const run = await triad.waitForRun(await triad.submit({ goal: 'goal:mcp', runId: 'scale-mcp' }));
  expect(run.status).toBe('succeeded');
  const obs = (await triad.events(run.id)).find((e) => e.type === 'observation');
  // The fixture's add answers 2 + 3 as text and as structured content.
  expect(obs).toMatchObject({
    tool: 'mcp_fixture_add',
    observation: { ok: true, data: { content: '5', structured: { sum: 5 } } },
  });
  expect(run.answer).toBe('The MCP server says 5.');
  const offered = (triad.model.requests[0].body.tools as { function: { name: string } }[]).map((t) => t.function.name);
  expect(offered).toContain('mcp_fixture_add');
});
