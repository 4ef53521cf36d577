import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { HttpPolicy, Observation } from '@triad/shared';
import { httpTools, MAX_REDIRECTS } from './http-request.tool.js';
import { readBody, startTestServer, type TestServer } from './testing/http-test-server.js';
import { testContext } from './testing/test-context.js';
import { ToolRegistry } from './tool-registry.js';
import { runTool } from './tool-runner.js';

const FIFTY_MB = 50 * 1024 * 1024;
const MAX_BYTES = 64 * 1024;

describe('http_get and http_post tools', () => {
  let server: TestServer;
  // What the 50 MB route managed to send before the client hung up.
  const stream = { sent: 0, closed: false, closedEarly: false };

  const routes: Record<string, (res: ServerResponse, body: string, headers: Record<string, unknown>) => void> = {
    '/text': (res) => {
      res.setHeader('set-cookie', 'session=secret');
      res.setHeader('x-internal', 'nope');
      res.setHeader('content-type', 'text/plain; charset=utf-8');
      res.end('olá');
    },
    '/missing': (res) => {
      res.statusCode = 404;
      res.end('no such page');
    },
    '/latin1': (res) => {
      res.setHeader('content-type', 'text/plain; charset=iso-8859-1');
      res.end(Buffer.from([0x63, 0x61, 0x66, 0xe9]));
    },
    '/bad-utf8': (res) => {
      res.setHeader('content-type', 'text/plain');
      res.end(Buffer.from([0x48, 0x69, 0xff, 0xfe]));
    },
    '/png': (res) => {
      res.setHeader('content-type', 'image/png');
      res.end(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0xff]));
    },
    '/echo': (res, body, headers) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ body, headers }));
    },
    '/huge-stream': (res) => {
      const chunk = Buffer.alloc(64 * 1024, 'a');
      res.setHeader('content-type', 'text/plain');
      res.on('close', () => {
        stream.closed = true;
        stream.closedEarly = stream.sent < FIFTY_MB;
      });
      const pump = () => {
        while (stream.sent < FIFTY_MB && !res.destroyed) {
          stream.sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        if (!res.destroyed) res.end();
      };
      pump();
    },
    '/huge-declared': (res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(FIFTY_MB) });
      res.write('a'.repeat(100)); // then never finish
    },
    '/hang': () => {},
    '/loop': (res) => redirect(res, 302, '/loop'),
  };
  const redirect = (res: ServerResponse, status: number, location: string) => {
    res.writeHead(status, { location });
    res.end();
  };

  beforeAll(async () => {
    server = await startTestServer(async (req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const body = await readBody(req);
      const to = url.searchParams.get('to');
      if (to) return redirect(res, Number(url.searchParams.get('status') ?? 302), to);
      const route = routes[url.pathname];
      if (!route) return void res.writeHead(500).end('no route');
      route(res, body, { method: req.method, ...req.headers });
    });
  });
  afterAll(() => server.close());

  const registryFor = (policy: Partial<HttpPolicy> = {}) =>
    new ToolRegistry(httpTools({ allowHosts: ['127.0.0.1'], timeoutMs: 5_000, maxBytes: MAX_BYTES, ...policy }));
  const allowed = registryFor();
  const ctx = testContext({ idempotencyKey: 'run-1:step-7' });
  const get = (url: string, registry = allowed, context = ctx) =>
    runTool(registry, { tool: 'http_get', arguments: JSON.stringify({ url, bearerToken: null }) }, context);
  const post = (url: string, body: string, contentType = 'application/json') =>
    runTool(allowed, { tool: 'http_post', arguments: JSON.stringify({ url, body, contentType }) }, ctx);
  const bodyOf = (obs: Observation): string => {
    if (!obs.ok) throw new Error(obs.error.message);
    return (obs.data as { body: string }).body;
  };
  const expectToolError = (obs: Observation, message: RegExp) => {
    expect(obs).toMatchObject({ ok: false, error: { code: 'tool_error' } });
    expect(!obs.ok && obs.error.message).toMatch(message);
  };

  it('returns status, the safe headers and the text body', async () => {
    const obs = await get(`${server.url}/text`);
    expect(obs).toEqual({
      ok: true,
      data: {
        url: `${server.url}/text`,
        status: 200,
        headers: { 'content-type': 'text/plain; charset=utf-8', 'content-length': '4' },
        body: 'olá',
        truncated: false,
      },
    });
  });

  it('returns HTTP errors as observations, not tool errors', async () => {
    await expect(get(`${server.url}/missing`)).resolves.toMatchObject({
      ok: true,
      data: { status: 404, body: 'no such page' },
    });
  });

  it('sends the idempotency key on GET and POST, and POSTs JSON or text', async () => {
    const got = bodyOf(await get(`${server.url}/echo`));
    expect(JSON.parse(got).headers).toMatchObject({ method: 'GET', 'idempotency-key': 'run-1:step-7' });
    const json = JSON.parse(bodyOf(await post(`${server.url}/echo`, '{"n":1}')));
    expect(json).toEqual({
      body: '{"n":1}',
      headers: expect.objectContaining({
        method: 'POST',
        'idempotency-key': 'run-1:step-7',
        'content-type': 'application/json; charset=utf-8',
      }),
    });
    const text = JSON.parse(bodyOf(await post(`${server.url}/echo`, 'plain words', 'text/plain')));
    expect(text).toMatchObject({ body: 'plain words', headers: { 'content-type': 'text/plain; charset=utf-8' } });
  });

  it('refuses a JSON body that is not JSON, without sending it', async () => {
    const before = server.requests.length;
    expectToolError(await post(`${server.url}/echo`, '{oops'), /not valid JSON/);
    expect(server.requests.length).toBe(before);
  });

  it('follows redirects, and turns a POST into a GET on 303 but keeps it on 307', async () => {
    await expect(get(`${server.url}/r?to=/text`)).resolves.toMatchObject({
      data: { url: `${server.url}/text`, body: 'olá' },
    });
    const after303 = JSON.parse(bodyOf(await post(`${server.url}/r?status=303&to=/echo`, '{"a":1}')));
    expect(after303).toMatchObject({ body: '', headers: { method: 'GET' } });
    expect(after303.headers['content-type']).toBeUndefined();
    const after307 = JSON.parse(bodyOf(await post(`${server.url}/r?status=307&to=/echo`, '{"a":1}')));
    expect(after307).toMatchObject({ body: '{"a":1}', headers: { method: 'POST' } });
  });

  it(`stops after ${MAX_REDIRECTS} redirects`, async () => {
    const before = server.requests.length;
    expectToolError(await get(`${server.url}/loop`), /Too many redirects \(more than 5\)/);
    expect(server.requests.slice(before)).toEqual(Array(MAX_REDIRECTS + 1).fill('GET /loop'));
  });

  it.each([
    ['to loopback IPv6', (port: number) => `http://[::1]:${port}/text`, /"::1": loopback/],
    ['to localhost', (port: number) => `http://localhost:${port}/text`, /"localhost" \(127.0.0.1\): loopback/],
    ['to another loopback address', (port: number) => `http://127.0.0.2:${port}/text`, /loopback/],
    ['to the metadata service', () => 'http://169.254.169.254/latest/meta-data/', /link-local/],
    ['to a file', () => 'file:///etc/passwd', /Only http and https/],
  ])('refuses a redirect %s from an allowed server', async (_name, target, message) => {
    const before = server.requests.length;
    const obs = await get(`${server.url}/r?to=${encodeURIComponent(target(server.port))}`);
    expectToolError(obs, message);
    expect(server.requests.length).toBe(before + 1); // the redirect itself, nothing after it
  });

  it.each([
    ['the metadata service', () => 'http://169.254.169.254/', /"169.254.169.254": link-local/],
    ['localhost when not allowed', (port: number) => `http://localhost:${port}/text`, /loopback/],
    ['127.0.0.1 when not allowed', (port: number) => `http://127.0.0.1:${port}/text`, /"127.0.0.1": loopback/],
    ['a file URL', () => 'file:///etc/passwd', /Only http and https URLs are allowed, not "file:"/],
    ['a URL with credentials', (port: number) => `http://admin:pw@127.0.0.1:${port}/text`, /credentials/],
  ])('refuses %s without connecting', async (_name, target, message) => {
    const before = server.requests.length;
    expectToolError(await get(target(server.port), registryFor({ allowHosts: [] })), message);
    expect(server.requests.length).toBe(before);
  });

  it('stops reading a 50 MB stream at maxBytes and hangs up', async () => {
    expectToolError(await get(`${server.url}/huge-stream`), new RegExp(`exceeds the size limit of ${MAX_BYTES} bytes`));
    // The server sees the hang-up a moment later; a client that read on would keep it open until 50 MB were sent.
    while (!stream.closed) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(stream.closedEarly).toBe(true);
    expect(stream.sent).toBeLessThan(FIFTY_MB / 4);
  });

  it('refuses a body whose Content-Length is over maxBytes before reading it', async () => {
    expectToolError(await get(`${server.url}/huge-declared`), /size limit .*declares 52428800 bytes/);
  });

  it('decodes the declared charset and refuses bodies that are not text', async () => {
    await expect(get(`${server.url}/latin1`)).resolves.toMatchObject({ data: { body: 'café' } });
    expectToolError(await get(`${server.url}/bad-utf8`), /not valid utf-8 text \(content-type "text\/plain"\)/);
    expectToolError(await get(`${server.url}/png`), /content-type "image\/png"/);
  });

  it('times out with a retryable timeout error', async () => {
    const obs = await get(`${server.url}/hang`, registryFor({ timeoutMs: 200 }));
    expect(obs).toEqual({
      ok: false,
      error: { code: 'timeout', message: 'The HTTP request timed out after 200 ms', retryable: true },
    });
  });

  it('stops when the run is cancelled', async () => {
    const controller = new AbortController();
    const pending = get(`${server.url}/hang`, allowed, testContext({ signal: controller.signal }));
    setTimeout(() => controller.abort(), 50);
    await expect(pending).resolves.toMatchObject({ ok: false, error: { code: 'cancelled' } });
  });

  it('reports a refused connection as a retryable tool error', async () => {
    const gone = await startTestServer(() => {});
    await gone.close();
    const obs = await get(`${gone.url}/`);
    expect(obs).toMatchObject({ ok: false, error: { code: 'tool_error', retryable: true } });
    expect(!obs.ok && obs.error.message).toMatch(/ECONNREFUSED/);
  });

  it('makes http_get a read tool and http_post a write tool', () => {
    expect(allowed.specs().map((s) => [s.name, s.risk])).toEqual([
      ['http_get', 'read'],
      ['http_post', 'write'],
    ]);
  });
});
