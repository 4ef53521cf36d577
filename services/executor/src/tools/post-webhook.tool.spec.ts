import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { HttpPolicy } from '@triad/shared';
import { postWebhookTool } from './post-webhook.tool.js';
import { readBody, startTestServer, type TestServer } from './testing/http-test-server.js';
import { testContext } from './testing/test-context.js';
import { ToolRegistry } from './tool-registry.js';
import { runTool } from './tool-runner.js';

describe('post_webhook tool', () => {
  let server: TestServer;
  const byKey = new Map<string, number>();
  const bodies: unknown[] = [];
  const contentTypes: (string | undefined)[] = [];
  let status = 202;
  const policy: HttpPolicy = { allowHosts: [], timeoutMs: 5_000, maxBytes: 1024 };

  beforeAll(async () => {
    server = await startTestServer(async (req, res) => {
      const key = String(req.headers['idempotency-key']);
      byKey.set(key, (byKey.get(key) ?? 0) + 1);
      contentTypes.push(req.headers['content-type']);
      bodies.push(JSON.parse(await readBody(req)));
      if (req.url === '/moved') {
        res.writeHead(307, { location: '/hook' }).end();
        return;
      }
      // A body over maxBytes: the webhook does not read it, so it cannot fail on it.
      res.writeHead(status, { 'content-type': 'text/plain' }).end('x'.repeat(4096));
    });
  });
  afterAll(() => server.close());

  const send = (url: string, key: string, args: object = { subject: 'Report', message: 'Porto is densest' }) =>
    runTool(
      new ToolRegistry([postWebhookTool(url, policy)]),
      { tool: 'post_webhook', arguments: JSON.stringify(args) },
      testContext({ idempotencyKey: key, runId: 'run-9', stepId: 'step-3' }),
    );

  it('posts JSON with the idempotency key to the configured URL, allowed although it is loopback', async () => {
    await expect(send(`${server.url}/hook`, 'run-9:step-3')).resolves.toEqual({
      ok: true,
      data: { status: 202, delivered: true },
    });
    expect(bodies.at(-1)).toEqual({ subject: 'Report', message: 'Porto is densest', runId: 'run-9', stepId: 'step-3' });
    expect(contentTypes.at(-1)).toBe('application/json');
  });

  it('sends the same key when the same step is retried, and another key for another step', async () => {
    await send(`${server.url}/hook`, 'retry:step-1');
    await send(`${server.url}/hook`, 'retry:step-1');
    await send(`${server.url}/hook`, 'retry:step-2');
    expect(byKey.get('retry:step-1')).toBe(2);
    expect(byKey.get('retry:step-2')).toBe(1);
  });

  it('reports a refusal by the receiver as not delivered rather than as a tool error', async () => {
    status = 500;
    try {
      await expect(send(`${server.url}/hook`, 'fails')).resolves.toEqual({
        ok: true,
        data: { status: 500, delivered: false },
      });
    } finally {
      status = 202;
    }
  });

  it('does not follow a redirect, which would post somewhere nobody approved', async () => {
    const before = server.requests.length;
    await expect(send(`${server.url}/moved`, 'moved')).resolves.toEqual({
      ok: true,
      data: { status: 307, delivered: false },
    });
    expect(server.requests.slice(before)).toEqual(['POST /moved']);
  });

  it('refuses a bad configured URL at construction', () => {
    expect(() => postWebhookTool('file:///etc/passwd', policy)).toThrow('http or https URL without credentials');
    expect(() => postWebhookTool('http://u:p@127.0.0.1/hook', policy)).toThrow('without credentials');
  });

  it('is irreversible and takes only subject and message', async () => {
    const tool = postWebhookTool(`${server.url}/hook`, policy);
    expect(tool.risk).toBe('irreversible');
    expect(new ToolRegistry([tool]).specs()[0].parameters.required).toEqual(['subject', 'message']);
    await expect(send(`${server.url}/hook`, 'k', { subject: 'x' })).resolves.toMatchObject({
      error: { code: 'invalid_arguments' },
    });
  });
});
