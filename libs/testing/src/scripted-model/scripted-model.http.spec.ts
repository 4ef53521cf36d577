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
    const res = await fetch(`${server.url}/v1/audio/speech`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({
      error: {
        message: 'scripted model: no route GET /v1/audio/speech',
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

describe('scripted model embeddings over raw HTTP', () => {
  type Reply = {
    data: { index: number; embedding: number[] | string }[];
    model: string;
    usage: { prompt_tokens: number };
  };
  const cosine = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i], 0);

  it('embeds a string or a list of strings, deterministically, honouring dimensions, and counts tokens', async () => {
    const before = server.embeddingRequests.length;
    const one = await post(JSON.stringify({ model: 'emb', input: 'The API wants ISO dates' }), '/v1/embeddings');
    expect(one.status).toBe(200);
    const single = one.json as Reply;
    expect(single.data).toHaveLength(1);
    expect(single.data[0].embedding).toHaveLength(256);
    expect(single.usage.prompt_tokens).toBeGreaterThan(0);
    const body = {
      model: 'emb',
      input: ['The API wants ISO dates', 'the api wants iso dates!', 'Cats purr'],
      dimensions: 64,
    };
    const many = (await post(JSON.stringify(body), '/v1/embeddings')).json as Reply;
    const [a, b, c] = many.data.map((d) => d.embedding as number[]);
    expect(many.data.map((d) => d.index)).toEqual([0, 1, 2]);
    expect(a).toHaveLength(64);
    expect(cosine(a, a)).toBeCloseTo(1, 5);
    expect(cosine(a, b)).toBeGreaterThan(0.8);
    expect(cosine(a, c)).toBeLessThan(0.5);
    const again = (await post(JSON.stringify(body), '/v1/embeddings')).json as Reply;
    expect(again.data).toEqual(many.data);
    expect(server.embeddingRequests.slice(before).map((r) => [r.input.length, r.dimensions])).toEqual([
      [1, 256],
      [3, 64],
      [3, 64],
    ]);
  });

  it('answers base64 (little-endian float32) when asked, as the openai client asks by default', async () => {
    const input = 'The API wants ISO dates';
    const floats = (await post(JSON.stringify({ model: 'e', input, dimensions: 32 }), '/v1/embeddings')).json as Reply;
    const b64 = (
      await post(JSON.stringify({ model: 'e', input, dimensions: 32, encoding_format: 'base64' }), '/v1/embeddings')
    ).json as Reply;
    const bytes = Buffer.from(b64.data[0].embedding as string, 'base64');
    const decoded = Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4));
    expect(decoded).toEqual(floats.data[0].embedding);
  });

  it('refuses empty inputs, token arrays and absurd dimensions with a 400', async () => {
    const before = server.embeddingRequests.length;
    for (const body of [
      { model: 'e', input: '' },
      { model: 'e', input: [] },
      { model: 'e', input: [[1, 2, 3]] },
      { model: 'e', input: 'x', dimensions: 0 },
      { input: 'x' },
    ]) {
      expect(await post(JSON.stringify(body), '/v1/embeddings')).toMatchObject({
        status: 400,
        json: { error: { code: 'invalid_request' } },
      });
    }
    expect(server.embeddingRequests.length).toBe(before);
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
