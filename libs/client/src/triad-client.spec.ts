import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { ApprovalRecord, RunRecord, StoredRunEvent } from '@triad/contracts';
import { TriadApiError, TriadConnectionError } from './client-errors.js';
import { FakeGateway, json, openSse, sendEvent } from './fake-gateway.fixture.js';
import { TriadClient } from './triad-client.js';

const run = (status: RunRecord['status'], id = 'r1'): RunRecord => ({
  schemaVersion: 1,
  id,
  tenant: 'default',
  status,
  phase: status === 'running' ? 'plan' : 'done',
  iteration: 1,
  request: null,
  usage: { inputTokens: 1, outputTokens: 2, modelCalls: 1, toolCalls: 0, costUsd: 0 },
  createdAt: 1,
  updatedAt: 2,
  finishedAt: status === 'running' ? null : 3,
  answer: status === 'succeeded' ? '42' : null,
  error: null,
});
const thought = {
  type: 'thought',
  iteration: 1,
  at: 1,
  stage: 'plan',
  text: 't',
  model: 'm',
  inputTokens: 1,
  outputTokens: 1,
};
const verdict = { type: 'verdict', iteration: 1, at: 2, decision: 'accept', reason: 'ok' };
const end = { type: 'status.changed', iteration: 1, at: 3, from: 'running', to: 'succeeded', reason: null };
const delivered = {
  type: 'webhook.delivered',
  iteration: 1,
  at: 4,
  url: 'https://x.example/h',
  attempts: 1,
  status: 200,
};
const approval: ApprovalRecord = {
  id: '1-0',
  runId: 'r1',
  iteration: 1,
  stepId: '1-0',
  callId: 'c',
  tool: 'post_webhook',
  risk: 'irreversible',
  arguments: '{}',
  argumentsHash: 'h',
  requestedBy: 'executor-1',
  requestedAt: 1,
  expiresAt: 2,
  status: 'pending',
  decidedBy: null,
  decidedAt: null,
  reason: null,
  editedArguments: null,
};

let gw: FakeGateway;
let client: TriadClient;
beforeAll(async () => {
  gw = await FakeGateway.start();
  client = new TriadClient({ baseUrl: `${gw.url}/`, apiKey: 'sekrit' });
});
beforeEach(() => {
  gw.requests.length = 0;
});
afterAll(() => gw.close());

const collect = async (it: AsyncIterable<StoredRunEvent>) => {
  const out: StoredRunEvent[] = [];
  for await (const e of it) out.push(e);
  return out;
};

describe('TriadClient requests', () => {
  it('submits with the bearer key and an Idempotency-Key, and parses the 202 answer', async () => {
    gw.handler = (_req, res) => json(res, 202, { runId: 'r1', created: true, url: '/v1/runs/r1' });
    const answer = await client.submit({ goal: 'hi', tools: ['calculator'] }, { idempotencyKey: 'k-1' });
    expect(answer).toEqual({ runId: 'r1', created: true, url: '/v1/runs/r1' });
    const [req] = gw.requests;
    expect(req).toMatchObject({ method: 'POST', path: '/v1/runs' });
    expect(req.headers).toMatchObject({ authorization: 'Bearer sekrit', 'idempotency-key': 'k-1' });
    expect(JSON.parse(req.body)).toEqual({ goal: 'hi', tools: ['calculator'] });
  });

  it('turns an API error answer into a TriadApiError with status, code, message and issues', async () => {
    const issues = [{ path: 'goal', message: 'Too small' }];
    gw.handler = (_req, res) =>
      json(res, 400, { error: { code: 'invalid_request', message: 'invalid request body', issues } });
    const err = await client.submit({ goal: '' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TriadApiError);
    expect(err).toMatchObject({ status: 400, code: 'invalid_request', message: 'invalid request body', issues });
    expect((err as TriadApiError).describe()).toBe('invalid request body (goal: Too small)');
  });

  it('reports an error answer that is not the API shape, and a 2xx answer that does not parse', async () => {
    gw.handler = (_req, res) => res.writeHead(502).end('<html>bad gateway</html>');
    await expect(client.get('r1')).rejects.toMatchObject({ status: 502, code: 'invalid_response' });
    gw.handler = (_req, res) => json(res, 200, { id: 'r1', status: 'weird' });
    await expect(client.get('r1')).rejects.toMatchObject({ status: 200, code: 'invalid_response' });
  });

  it('reads a run, escaping its id in the path', async () => {
    gw.handler = (_req, res) => json(res, 200, run('succeeded'));
    expect(await client.get('a b')).toMatchObject({ id: 'r1', status: 'succeeded', answer: '42' });
    expect(gw.requests[0].path).toBe('/v1/runs/a%20b');
  });

  it('lists with filters and follows cursors through every page', async () => {
    gw.handler = (req, res) => {
      const cursor = new URL(req.path, gw.url).searchParams.get('cursor');
      json(
        res,
        200,
        cursor ? { runs: [run('failed', 'r2')], nextCursor: null } : { runs: [run('failed')], nextCursor: 'c1' },
      );
    };
    const pages = [];
    for await (const page of client.listAll({ status: 'failed', limit: 1 })) pages.push(page.runs.map((r) => r.id));
    expect(pages).toEqual([['r1'], ['r2']]);
    expect(gw.requests.map((r) => r.path)).toEqual([
      '/v1/runs?status=failed&limit=1',
      '/v1/runs?status=failed&limit=1&cursor=c1',
    ]);
  });

  it('cancels, lists approvals and decides them with the right bodies', async () => {
    gw.handler = (req, res) => {
      if (req.path.endsWith('/cancel')) return json(res, 200, { runId: 'r1', cancelled: true, status: 'cancelled' });
      if (req.method === 'GET') return json(res, 200, { approvals: [approval] });
      json(res, 200, { approval: { ...approval, status: req.path.endsWith('/approve') ? 'approved' : 'rejected' } });
    };
    expect(await client.cancel('r1', 'enough')).toEqual({ runId: 'r1', cancelled: true, status: 'cancelled' });
    expect(await client.approvals('r1')).toEqual([approval]);
    expect(await client.approvals()).toEqual([approval]);
    expect((await client.approve('r1', '1-0', { subject: 'x' })).status).toBe('approved');
    expect((await client.reject('r1', '1-0', 'no')).status).toBe('rejected');
    expect(gw.requests.map((r) => `${r.method} ${r.path} ${r.body}`)).toEqual([
      'POST /v1/runs/r1/cancel {"reason":"enough"}',
      'GET /v1/runs/r1/approvals ',
      'GET /v1/approvals ',
      'POST /v1/runs/r1/approvals/1-0/approve {"arguments":{"subject":"x"}}',
      'POST /v1/runs/r1/approvals/1-0/reject {"reason":"no"}',
    ]);
  });

  it('lists, searches, creates, reads and deletes memories with the right paths and bodies', async () => {
    const memory = {
      id: 'm7',
      tenant: 'default',
      kind: 'lesson',
      text: 'dates as YYYY-MM-DD',
      tags: ['api'],
      source: { origin: 'api', runId: null, stepId: null },
      untrusted: false,
      createdAt: 1,
      expiresAt: 2,
    };
    gw.handler = (req, res) => {
      if (req.method === 'DELETE' && req.path.startsWith('/v1/memories?')) return json(res, 200, { deleted: 3 });
      if (req.method === 'DELETE' && req.path === '/v1/memories/m404') {
        return json(res, 404, { error: { code: 'not_found', message: 'no memory m404' } });
      }
      if (req.method === 'DELETE') return res.writeHead(204).end();
      if (req.path === '/v1/memories/search') return json(res, 200, { matches: [{ entry: memory, score: 0.9 }] });
      if (req.method === 'POST') return json(res, 201, { memory, duplicate: false });
      if (req.path === '/v1/memories/m7') return json(res, 200, memory);
      json(res, 200, { memories: [memory], nextCursor: null });
    };
    expect((await client.listMemories({ kind: 'lesson', tags: ['a', 'b'], limit: 5 })).memories).toEqual([memory]);
    expect((await client.searchMemories({ query: 'dates', k: 3 })).matches[0]?.score).toBe(0.9);
    expect(await client.createMemory({ text: 'dates as YYYY-MM-DD', kind: 'lesson' })).toEqual({
      memory,
      duplicate: false,
    });
    expect(await client.getMemory('m7')).toEqual(memory);
    await client.deleteMemory('m7');
    await expect(client.deleteMemory('m404')).rejects.toMatchObject({ status: 404, code: 'not_found' });
    expect(await client.deleteMemoriesOfRun('run 1')).toBe(3);
    expect(gw.requests.map((r) => `${r.method} ${r.path} ${r.body}`)).toEqual([
      'GET /v1/memories?kind=lesson&limit=5&tags=a%2Cb ',
      'POST /v1/memories/search {"query":"dates","k":3}',
      'POST /v1/memories {"text":"dates as YYYY-MM-DD","kind":"lesson"}',
      'GET /v1/memories/m7 ',
      'DELETE /v1/memories/m7 ',
      'DELETE /v1/memories/m404 ',
      'DELETE /v1/memories?sourceRunId=run+1 ',
    ]);
  });

  it('forks and replays with the right bodies and Idempotency-Key, and parses the 202 answer', async () => {
    gw.handler = (req, res) =>
      json(res, 202, { runId: `child-of-${req.path.split('/')[4]}`, created: true, url: '/x' });
    const forked = await client.fork('r1', { fromIteration: 2, model: 'm2' }, { idempotencyKey: 'f-1' });
    expect(forked).toEqual({ runId: 'child-of-fork', created: true, url: '/x' });
    await client.replay('r 1');
    await client.replay('r1', { liveModel: true, toolsLive: false });
    expect(gw.requests.map((r) => `${r.method} ${r.path} ${r.body}`)).toEqual([
      'POST /v1/runs/r1/fork {"fromIteration":2,"model":"m2"}',
      'POST /v1/runs/r%201/replay {}',
      'POST /v1/runs/r1/replay {"liveModel":true,"toolsLive":false}',
    ]);
    expect(gw.requests[0]?.headers['idempotency-key']).toBe('f-1');
  });

  it('says when the gateway cannot be reached', async () => {
    const closed = await FakeGateway.start();
    const url = closed.url;
    await closed.close();
    const err = await new TriadClient({ baseUrl: url }).get('r1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TriadConnectionError);
    expect((err as Error).message).toContain(`cannot reach ${url}`);
  });
});

describe('TriadClient events', () => {
  it('streams events until the server ends the stream, the webhook outcome after the run end included', async () => {
    gw.handler = (_req, res) => {
      openSse(res);
      res.write(': keep-alive\n\n');
      sendEvent(res, '1-0', thought);
      sendEvent(res, '2-0', end);
      sendEvent(res, '3-0', delivered);
      res.end();
    };
    const events = await collect(client.events('r1'));
    expect(events.map((e) => [e.id, e.type])).toEqual([
      ['1-0', 'thought'],
      ['2-0', 'status.changed'],
      ['3-0', 'webhook.delivered'],
    ]);
    expect(gw.requests).toHaveLength(1); // a stream closed after the run's end is not reopened
    expect(gw.requests[0].headers).toMatchObject({ accept: 'text/event-stream', authorization: 'Bearer sekrit' });
  });

  it('reconnects after a dropped connection with Last-Event-ID and never yields an event twice', async () => {
    let opened = 0;
    gw.handler = (req, res) => {
      if (!req.path.endsWith('/events')) return json(res, 200, run('running'));
      opened++;
      openSse(res);
      if (opened === 1) {
        sendEvent(res, '1-0', thought);
        sendEvent(res, '2-0', verdict);
        setTimeout(() => res.destroy(), 20); // the connection breaks mid-stream
      } else if (opened === 2) {
        sendEvent(res, '2-0', verdict); // a careless server repeats the last one
        res.end(); // and ends cleanly while the run still runs
      } else {
        sendEvent(res, '10-0', end);
        res.end();
      }
    };
    const events = await collect(client.events('r1', { retryDelayMs: 1, lastEventId: '0-5' }));
    expect(events.map((e) => e.id)).toEqual(['1-0', '2-0', '10-0']);
    const lastIds = gw.requests.filter((r) => r.path.endsWith('/events')).map((r) => r.headers['last-event-id']);
    expect(lastIds).toEqual(['0-5', '2-0', '2-0']);
  });

  it('stops when a stream ends early for a run that has already ended', async () => {
    gw.handler = (req, res) => {
      if (!req.path.endsWith('/events')) return json(res, 200, run('succeeded'));
      openSse(res);
      res.end();
    };
    expect(await collect(client.events('r1', { lastEventId: '9-0' }))).toEqual([]);
    expect(gw.requests.map((r) => r.path)).toEqual(['/v1/runs/r1/events', '/v1/runs/r1']);
  });

  it('gives up after the bounded number of retries when the server keeps failing', async () => {
    gw.handler = (_req, res) => json(res, 503, { error: { code: 'internal', message: 'redis down' } });
    const err = await collect(client.events('r1', { maxRetries: 2, retryDelayMs: 1 })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TriadConnectionError);
    expect((err as Error).message).toMatch(/lost after 2 retries: redis down/);
    expect(gw.requests).toHaveLength(3);
  });

  it('throws a 4xx answer at once, without retrying', async () => {
    gw.handler = (_req, res) => json(res, 404, { error: { code: 'not_found', message: 'no run nope' } });
    await expect(collect(client.events('nope'))).rejects.toMatchObject({ status: 404, code: 'not_found' });
    expect(gw.requests).toHaveLength(1);
  });

  it('waitFor follows the events to the end and returns the run record', async () => {
    gw.handler = (req, res) => {
      if (!req.path.endsWith('/events')) return json(res, 200, run('succeeded'));
      openSse(res);
      sendEvent(res, '1-0', thought);
      setTimeout(() => sendEvent(res, '2-0', end), 20);
    };
    expect(await client.waitFor('r1', { timeoutMs: 10_000 })).toMatchObject({ status: 'succeeded', answer: '42' });
  });

  it('waitFor gives up at its time limit with a clear error', async () => {
    gw.handler = (_req, res) => openSse(res); // a run that never ends
    await expect(client.waitFor('r1', { timeoutMs: 50 })).rejects.toThrow('run r1 did not end within 50 ms');
  });
});
