// Semantic memory through its surfaces, against real processes (gateway, planner, executor, judge), real Redis and
// the scripted model's embeddings over HTTP: the /v1/memories API (create, list, search, get, delete, delete by
// source run) with roles, tenant isolation and 400s; the memorize and search_memory tools carrying a fact from one
// run to the next of the same tenant only; a gateway whose embeddings server is down answering 503 and storing
// nothing; and `triad memory ls|search|add|rm`.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { MemoryEntry, Observation, StoredRunEvent } from '@triad/shared';
import type { Scenario, ToolCallScript } from '@triad/testing';
import { freePort } from '../cli/src/stack/local-redis.js';
import { REPO_ROOT } from '../cli/src/stack/service-processes.js';
import { type ChildRun, WatchedChild } from './support/child-process.js';
import { GatewayClient } from './support/gateway-harness.js';
import { acceptedScript } from './support/scripts.js';
import { TriadHarness } from './support/triad-harness.js';

const FACT = 'The billing API wants invoice dates written as YYYY-MM-DD, never as DD/MM/YYYY.';

const memorize = (id: string, text: string): ToolCallScript => ({
  id,
  name: 'memorize',
  arguments: { text, kind: 'lesson', tags: ['billing-api', 'dates'] },
});
const searchMemory = (id: string, query: string): ToolCallScript => ({
  id,
  name: 'search_memory',
  arguments: { query, k: 3, kind: null, tags: null },
});

const scenario: Scenario = {
  scripts: [
    acceptedScript('mem-write', [
      { content: 'I will remember this for later runs.', toolCalls: [memorize('w1', FACT)] },
      { content: 'Stored as {{tool:w1.data.id}}.' },
    ]),
    acceptedScript('mem-read', [
      { content: 'What do we know?', toolCalls: [searchMemory('s1', 'how should invoice dates be formatted')] },
      { content: 'Known: {{tool:s1.data.matches.0.text}}' },
    ]),
  ],
};

const KEYS = {
  acme: 'k-acme-submit-1',
  acmeReader: 'k-acme-read-2',
  globex: 'k-globex-submit-3',
  root: 'k-root-admin-4',
};
let triad: TriadHarness;
let gw: GatewayClient;

beforeAll(async () => {
  triad = await TriadHarness.start({ scenario, executors: 1, env: { TRIAD_JUDGE_POLICY: 'checks' } });
  gw = await GatewayClient.start(triad, {
    TRIAD_API_KEYS: [
      `acme-bot:${KEYS.acme}:submit+read:acme`,
      `acme-viewer:${KEYS.acmeReader}:read:acme`,
      `globex-bot:${KEYS.globex}:submit+read:globex`,
      `root:${KEYS.root}:admin`,
    ].join(','),
  });
}, 180_000);
afterAll(async () => {
  await triad?.stop();
});

const call = (method: string, path: string, key: string, body?: unknown, headers?: Record<string, string>) =>
  gw.call(method, path, { key, body, headers });
const create = (key: string, body: unknown) => call('POST', '/v1/memories', key, body);
const search = (key: string, body: unknown) => call('POST', '/v1/memories/search', key, body);
const ids = (entries: MemoryEntry[]) => entries.map((e) => e.id);

/** Submits a goal through the gateway (learning and recall off: only the tools touch the memory) and waits for its end. */
async function runToEnd(key: string, runId: string, goal: string) {
  const res = await call('POST', '/v1/runs', key, { goal, runId, memory: { recall: false, learn: false } });
  expect(res.status).toBe(202);
  return triad.eventually(
    async () => {
      const r = await call('GET', `/v1/runs/${runId}`, key);
      return r.status === 200 && r.body.status !== 'running' && r.body;
    },
    { what: `run ${runId} to end` },
  );
}

const observations = (events: StoredRunEvent[]) =>
  events.filter((e): e is Extract<StoredRunEvent, { type: 'observation' }> => e.type === 'observation');

describe('the memories API', () => {
  it('creates a trusted entry of the caller’s tenant, lists, filters, reads, searches by meaning and deletes it', async () => {
    const created = await create(KEYS.acme, { text: FACT, kind: 'fact', tags: ['billing-api'] });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      duplicate: false,
      memory: expect.objectContaining({
        id: expect.stringMatching(/^m[0-9]+$/),
        tenant: 'acme',
        kind: 'fact',
        text: FACT,
        tags: ['billing-api'],
        source: { origin: 'api', runId: null, stepId: null },
        untrusted: false,
      }),
    });
    const { id } = created.body.memory;
    const other = await create(KEYS.acme, { text: 'Porto is the second largest city of Portugal.', tags: ['geo'] });
    expect(other.status).toBe(201);

    const listed = await call('GET', '/v1/memories', KEYS.acmeReader);
    expect(listed.status).toBe(200);
    expect(ids(listed.body.memories)).toEqual(expect.arrayContaining([id, other.body.memory.id]));
    const byTag = await call('GET', '/v1/memories?tags=billing-api&kind=fact', KEYS.acmeReader);
    expect(ids(byTag.body.memories)).toEqual([id]);
    const paged = await call('GET', '/v1/memories?limit=1', KEYS.acmeReader);
    expect(paged.body.memories).toHaveLength(1);
    expect(paged.body.nextCursor).toEqual(expect.any(String));
    const next = await call('GET', `/v1/memories?limit=1&cursor=${paged.body.nextCursor}`, KEYS.acmeReader);
    expect(next.body.memories).toHaveLength(1);
    expect(next.body.memories[0].id).not.toBe(paged.body.memories[0].id);

    expect((await call('GET', `/v1/memories/${id}`, KEYS.acmeReader)).body).toEqual(created.body.memory);

    const found = await search(KEYS.acmeReader, { query: 'how to format invoice dates for billing', k: 2 });
    expect(found.status).toBe(200);
    expect(found.body.matches.map((m: { entry: MemoryEntry }) => m.entry.id)).toEqual([id, other.body.memory.id]);
    expect(found.body.matches[0].score).toBeGreaterThan(found.body.matches[1].score);
    const lessonsOnly = await search(KEYS.acmeReader, { query: 'invoice dates', kind: 'lesson' });
    expect(ids(lessonsOnly.body.matches.map((m: { entry: MemoryEntry }) => m.entry))).not.toContain(id);

    expect((await call('DELETE', `/v1/memories/${id}`, KEYS.acme)).status).toBe(204);
    expect((await call('GET', `/v1/memories/${id}`, KEYS.acmeReader)).status).toBe(404);
    expect((await call('DELETE', `/v1/memories/${id}`, KEYS.acme)).status).toBe(404);
    const after = await search(KEYS.acmeReader, { query: 'how to format invoice dates for billing' });
    expect(after.body.matches.map((m: { entry: MemoryEntry }) => m.entry.id)).not.toContain(id);
  });

  it('keeps each tenant’s memories to itself: another tenant’s id is a 404, its search and list never show them', async () => {
    const mine = (await create(KEYS.acme, { text: 'Acme ships on Tuesdays only.', tags: ['shipping'] })).body.memory;
    const theirs = (await create(KEYS.globex, { text: 'Globex ships on Tuesdays only.', tags: ['shipping'] })).body
      .memory;
    expect(theirs.tenant).toBe('globex');
    for (const [method, path] of [
      ['GET', `/v1/memories/${mine.id}`],
      ['DELETE', `/v1/memories/${mine.id}`],
    ]) {
      expect((await call(method, path, KEYS.globex)).status).toBe(404);
    }
    expect((await call('GET', `/v1/memories/${mine.id}`, KEYS.acme)).status).toBe(200);
    const globexSearch = await search(KEYS.globex, { query: 'which day does Acme ship', k: 50 });
    expect(globexSearch.body.matches.every((m: { entry: MemoryEntry }) => m.entry.tenant === 'globex')).toBe(true);
    expect(globexSearch.body.matches.map((m: { entry: MemoryEntry }) => m.entry.id)).toContain(theirs.id);
    const globexList = await call('GET', '/v1/memories?limit=200', KEYS.globex);
    expect(globexList.body.memories.every((e: MemoryEntry) => e.tenant === 'globex')).toBe(true);
    // The same id may exist in both tenants (ids are per tenant): each sees its own.
    const acmeSearch = await search(KEYS.acme, { query: 'which day does Globex ship', k: 50 });
    expect(acmeSearch.body.matches.every((m: { entry: MemoryEntry }) => m.entry.tenant === 'acme')).toBe(true);
    // An admin acts for the tenant it names.
    const asGlobex = await call('GET', `/v1/memories/${theirs.id}`, KEYS.root, undefined, {
      'X-Triad-Tenant': 'globex',
    });
    expect(asGlobex.body).toMatchObject({ tenant: 'globex', text: theirs.text });
  });

  it('lets read keys read and search only, submit keys write and delete', async () => {
    const refused = await create(KEYS.acmeReader, { text: 'A reader may not write this.' });
    expect(refused.status).toBe(403);
    const entry = (await create(KEYS.acme, { text: 'Readers cannot delete this.' })).body.memory;
    expect((await call('DELETE', `/v1/memories/${entry.id}`, KEYS.acmeReader)).status).toBe(403);
    expect((await call('DELETE', '/v1/memories?sourceRunId=any-run', KEYS.acmeReader)).status).toBe(403);
    expect((await call('GET', `/v1/memories/${entry.id}`, KEYS.acmeReader)).status).toBe(200);
    expect((await search(KEYS.acmeReader, { query: 'readers' })).status).toBe(200);
    expect((await gw.call('GET', '/v1/memories')).status).toBe(401);
    expect((await call('GET', '/v1/memories', 'not-a-key')).status).toBe(401);
  });

  it('answers bad input with 400 naming each bad field, and stores nothing', async () => {
    const before = (await call('GET', '/v1/memories?limit=200', KEYS.acme)).body.memories.length;
    const cases: [string, string, unknown, string][] = [
      ['POST', '/v1/memories', { text: '' }, 'text'],
      ['POST', '/v1/memories', { text: 'x', kind: 'opinion' }, 'kind'],
      ['POST', '/v1/memories', { text: 'x', tags: ['has space'] }, 'tags.0'],
      ['POST', '/v1/memories', { text: 'x'.repeat(2_001) }, 'text'],
      ['POST', '/v1/memories', { text: 'x', tenant: 'globex' }, '(root)'],
      ['POST', '/v1/memories/search', { query: 'x', k: 0 }, 'k'],
      ['POST', '/v1/memories/search', {}, 'query'],
      ['GET', '/v1/memories?limit=0', undefined, 'limit'],
      ['GET', '/v1/memories?kind=opinion', undefined, 'kind'],
      ['GET', '/v1/memories?cursor=not-a-cursor', undefined, 'cursor'],
      ['DELETE', '/v1/memories', undefined, 'sourceRunId'],
    ];
    for (const [method, path, body, field] of cases) {
      const res = await call(method, path, KEYS.acme, body);
      expect({ method, path, status: res.status }).toEqual({ method, path, status: 400 });
      expect(res.body.error.code).toBe('invalid_request');
      expect(res.body.error.issues.map((i: { path: string }) => i.path)).toContain(field);
    }
    expect((await call('GET', '/v1/memories/not-an-id', KEYS.acme)).status).toBe(404);
    expect((await call('POST', '/v1/memories', KEYS.acme, '{"text": ')).status).toBe(400);
    expect((await call('GET', '/v1/memories?limit=200', KEYS.acme)).body.memories.length).toBe(before);
  });
});

describe('the memorize and search_memory tools', () => {
  it('are published in GET /v1/tools with their risks', async () => {
    const { body } = await call('GET', '/v1/tools', KEYS.acmeReader);
    const risk = (name: string) => body.tools.find((t: { name: string }) => t.name === name)?.risk;
    expect([risk('memorize'), risk('search_memory')]).toEqual(['write', 'read']);
  });

  it('carry what one run memorized to a later run of the same tenant, never to another tenant', async () => {
    const writer = await runToEnd(KEYS.acme, 'mem-writer', 'goal:mem-write');
    expect(writer.status).toBe('succeeded');
    const [stored] = observations(await triad.events('acme~mem-writer'));
    expect(stored).toMatchObject({ tool: 'memorize', observation: { ok: true } });
    const data = (stored.observation as Extract<Observation, { ok: true }>).data as { id: string };
    expect(writer.answer).toBe(`Stored as ${data.id}.`);
    // Written by a model that read tool outputs: untrusted, with the run and step as source, in the run's tenant.
    const entry = (await call('GET', `/v1/memories/${data.id}`, KEYS.acme)).body;
    expect(entry).toMatchObject({
      tenant: 'acme',
      kind: 'lesson',
      text: FACT,
      tags: ['billing-api', 'dates'],
      source: { origin: 'tool', runId: 'mem-writer', stepId: stored.stepId },
      untrusted: true,
    });
    const bySource = await call('GET', '/v1/memories?sourceRunId=mem-writer', KEYS.acme);
    expect(ids(bySource.body.memories)).toEqual([data.id]);

    const reader = await runToEnd(KEYS.acme, 'mem-reader', 'goal:mem-read');
    expect(reader).toMatchObject({ status: 'succeeded', answer: `Known: ${FACT}` });
    const [found] = observations(await triad.events('acme~mem-reader'));
    const matches = (found.observation as Extract<Observation, { ok: true }>).data as {
      matches: { id: string; untrusted: boolean; score: number }[];
    };
    expect(matches.matches[0]).toMatchObject({ id: data.id, untrusted: true, score: expect.any(Number) });

    // Globex runs the same search: its tools are bound to its own tenant, whatever the arguments say.
    const outsider = await runToEnd(KEYS.globex, 'mem-outsider', 'goal:mem-read');
    expect(outsider.status).toBe('succeeded');
    expect(outsider.answer).not.toContain(FACT);
    const [theirs] = observations(await triad.events('globex~mem-outsider'));
    const seen = (theirs.observation as Extract<Observation, { ok: true }>).data as { matches: { text: string }[] };
    expect(seen.matches.map((m) => m.text)).not.toContain(FACT);

    // Deleting the source run's memories removes what it memorized.
    const removed = await call('DELETE', '/v1/memories?sourceRunId=mem-writer', KEYS.acme);
    expect(removed).toMatchObject({ status: 200, body: { deleted: 1 } });
    expect((await call('GET', `/v1/memories/${data.id}`, KEYS.acme)).status).toBe(404);
    expect((await call('DELETE', '/v1/memories?sourceRunId=mem-writer', KEYS.acme)).body).toEqual({ deleted: 0 });
  });
});

describe('a gateway whose embeddings server is down', () => {
  it('answers 503 to a write and a search, stores nothing, and still lists and reads', async () => {
    const dead = await freePort(); // nothing listens there
    const down = await GatewayClient.start(triad, {
      TRIAD_API_KEYS: `acme-bot:${KEYS.acme}:submit+read:acme`,
      OPENAI_BASE_URL: `http://127.0.0.1:${dead}/v1`,
    });
    const before = (await down.call('GET', '/v1/memories?limit=200', { key: KEYS.acme })).body.memories;
    const write = await down.call('POST', '/v1/memories', { key: KEYS.acme, body: { text: 'never stored' } });
    expect(write.status).toBe(503);
    expect(write.body.error).toMatchObject({
      code: 'service_unavailable',
      message: expect.stringMatching(/embeddings/),
    });
    const query = await down.call('POST', '/v1/memories/search', { key: KEYS.acme, body: { query: 'anything' } });
    expect(query.status).toBe(503);
    const after = (await down.call('GET', '/v1/memories?limit=200', { key: KEYS.acme })).body.memories;
    expect(ids(after)).toEqual(ids(before));
    expect(after.map((e: MemoryEntry) => e.text)).not.toContain('never stored');
    await down.process.stop();
  });
});

describe('triad memory', () => {
  /** `node cli/dist/triad.js ...args` against the test gateway with the acme key, to its end. */
  function cli(args: string[], key = KEYS.acme): Promise<ChildRun> {
    const child = spawn(process.execPath, [`${REPO_ROOT}cli/dist/triad.js`, ...args], {
      env: { PATH: process.env.PATH, TRIAD_URL: gw.url, TRIAD_API_KEY: key },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new WatchedChild(child).exit({ what: `triad ${args.join(' ')} to end`, context: () => triad.serviceLogs() });
  }

  it('adds, lists, searches and removes memories, with --json and clear errors', async () => {
    const added = await cli(['memory', 'add', '--kind', 'lesson', '--tags', 'cli,dates', 'Send dates as YYYY-MM-DD.']);
    expect(added).toMatchObject({ code: 0, stderr: '' });
    const id = /^stored lesson (m[0-9]+)$/m.exec(added.stdout)?.[1] as string;
    expect(id).toBeDefined();

    const ls = await cli(['memory', 'ls', '--tags', 'cli']);
    expect(ls).toMatchObject({ code: 0, stderr: '' });
    expect(ls.stdout).toMatch(/^ID +KIND +CREATED \(UTC\) +TAGS +SOURCE +TEXT$/m);
    expect(ls.stdout).toMatch(new RegExp(`^${id} +lesson .* cli,dates +api +Send dates as YYYY-MM-DD\\.$`, 'm'));

    const json = await cli(['memory', 'search', '--json', '--k', '1', 'what date format should I send']);
    expect(json.code).toBe(0);
    const { matches } = JSON.parse(json.stdout);
    expect(matches).toEqual([{ entry: expect.objectContaining({ id, tenant: 'acme' }), score: expect.any(Number) }]);

    const found = await cli(['memory', 'search', '--kind', 'lesson', '--tags', 'cli', 'date format']);
    expect(found.stdout).toMatch(new RegExp(`^${id} +[-0-9.]+ +lesson`, 'm'));

    expect(await cli(['memory', 'rm', id])).toMatchObject({ code: 0, stdout: `deleted memory ${id}\n` });
    const again = await cli(['memory', 'rm', id]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/no memory/);
    const reader = await cli(['memory', 'add', 'readers cannot add'], KEYS.acmeReader);
    expect(reader.code).toBe(1);
    expect(reader.stderr).toMatch(/lacks the role/);
    expect((await cli(['memory', 'ls', '--kind', 'opinion'])).code).toBe(2);
    expect((await cli(['memory', 'frobnicate'])).code).toBe(2);
    expect((await cli(['memory', 'rm'])).code).toBe(2);
  });

  it('rm --run removes every memory a run wrote', async () => {
    await runToEnd(KEYS.acme, 'mem-cli-writer', 'goal:mem-write');
    const listed = JSON.parse((await cli(['memory', 'ls', '--json', '--run', 'mem-cli-writer'])).stdout);
    expect(listed.memories).toHaveLength(1);
    const rm = await cli(['memory', 'rm', '--run', 'mem-cli-writer']);
    expect(rm).toMatchObject({ code: 0, stdout: 'deleted 1 memory of run mem-cli-writer\n' });
    const empty = await cli(['memory', 'ls', '--run', 'mem-cli-writer']);
    expect(empty.stdout).toBe('no memories\n');
  });
});
