import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { loadScenarioFile, type Scenario } from './scenario.js';
import { type ScriptedModelServer, startScriptedModelServer } from './scripted-model.server.js';

const scenario: Scenario = { scripts: [{ name: 'slow', turns: { planner: [{ content: 'late', delayMs: 150 }] } }] };

let server: ScriptedModelServer;
beforeAll(async () => {
  server = await startScriptedModelServer({ scenario });
});
afterAll(() => server.close());

async function post(body: string | Buffer, path = '/v1/chat/completions'): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${server.url}${path}`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json' },
  });
  return { status: res.status, json: await res.json() };
}

describe('scripted model server over raw HTTP', () => {
  it('answers unknown routes with a 404 OpenAI-style error', async () => {
    const res = await fetch(`${server.url}/v1/embeddings`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({
      error: {
        message: 'scripted model: no route GET /v1/embeddings',
        type: 'not_found_error',
        code: 'not_found',
        param: null,
      },
    });
  });

  it('rejects a body that is not JSON, a malformed request and stream: true with 400s', async () => {
    const notJson = await post('{"model":');
    expect(notJson).toMatchObject({ status: 400, json: { error: { code: 'invalid_json' } } });
    const noMessages = await post(JSON.stringify({ model: 'planner' }));
    expect(noMessages).toMatchObject({ status: 400, json: { error: { code: 'invalid_request' } } });
    const stream = await post(JSON.stringify({ model: 'planner', messages: [], stream: true }));
    expect(stream).toMatchObject({ status: 400, json: { error: { type: 'invalid_request_error' } } });
    expect(server.requests).toEqual([]);
  });

  it('answers 413 to a body over 10 MB and keeps serving', async () => {
    const big = await post(Buffer.alloc(10 * 1024 * 1024 + 1, 'a'));
    expect(big).toMatchObject({ status: 413, json: { error: { code: 'too_large' } } });
    expect((await fetch(`${server.url}/v1/models`)).status).toBe(200);
  });

  it('waits delayMs before answering', async () => {
    const started = Date.now();
    const res = await post(JSON.stringify({ model: 'planner', messages: [{ role: 'user', content: 'x' }] }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(res).toMatchObject({ status: 200, json: { choices: [{ message: { content: 'late' } }] } });
  });

  it('survives a client that hangs up mid-request', async () => {
    await new Promise<void>((resolve) => {
      const req = request(`${server.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-length': '100' },
      });
      req.on('error', () => resolve());
      req.write('{"model"', () => {
        req.destroy();
        resolve();
      });
    });
    expect((await fetch(`${server.url}/v1/models`)).status).toBe(200);
  });
});

describe('scenario validation', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scripted-model-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('refuses to start on a bad scenario, naming the offending path', async () => {
    const bad = { scripts: [{ turns: { planner: [{ toolcalls: [] }] } }] } as unknown as Scenario;
    await expect(startScriptedModelServer({ scenario: bad })).rejects.toThrow(
      /invalid scripted-model scenario[\s\S]*toolcalls/,
    );
    const badFault = { scripts: [{ turns: { planner: [{ fault: { kind: 'explode' } }] } }] } as unknown as Scenario;
    await expect(startScriptedModelServer({ scenario: badFault })).rejects.toThrow(
      /scripts\[0\]\.turns\.planner\[0\]\.fault/,
    );
  });

  it('loads and validates a scenario file', async () => {
    const good = join(dir, 'good.json');
    await writeFile(good, JSON.stringify(scenario));
    expect(await loadScenarioFile(good)).toEqual(scenario);
    const broken = join(dir, 'broken.json');
    await writeFile(broken, '{ nope');
    await expect(loadScenarioFile(broken)).rejects.toThrow(/broken\.json is not valid JSON/);
    const invalid = join(dir, 'invalid.json');
    await writeFile(invalid, JSON.stringify({ scripts: 'x' }));
    await expect(loadScenarioFile(invalid)).rejects.toThrow(/invalid\.json[\s\S]*scripts/);
  });
});
