import type { IncomingHttpHeaders } from 'node:http';
import { TextDecoder } from 'node:util';
import { type GuardedResponse, guardedRequest, type HttpPolicy, SsrfGuard } from '@triad/shared';
import { z } from 'zod';
import { defineTool, type ToolContext, type ToolDefinition, ToolFailure } from './tool.js';

/** Largest request body http_post sends, in UTF-8 bytes. */
export const MAX_POST_BYTES = 256 * 1024;
/** Redirects the HTTP tools follow, each one checked like the first URL. */
export const MAX_REDIRECTS = 5;

// Only headers that help the model read the answer; cookies and the like stay out of the run's history.
const SAFE_HEADERS = ['content-type', 'content-length', 'location', 'retry-after'];

const HttpResult = z.object({
  url: z.string(),
  status: z.number().int(),
  headers: z.record(z.string(), z.string()),
  body: z.string(),
  truncated: z.literal(false),
});

const Url = z.string().describe('Absolute http or https URL; no user:password@ part');

/**
 * The tools http_get (read) and http_post (write), both behind the SSRF guard: only public addresses unless
 * policy.allowHosts names the host, redirects re-checked, time and size limited.
 *
 * Bodies come back as text only: decoded with the charset the response declares (UTF-8 when none), and a body
 * that does not decode - binary data, or a wrong charset - is a tool error rather than base64, which the model
 * could not use and which would fill the observation limit.
 */
export function httpTools(policy: HttpPolicy): ToolDefinition[] {
  const guard = new SsrfGuard(policy.allowHosts);
  // Our own deadline fires first, so the model reads "timed out after N ms" from the tool itself.
  const timeoutMs = policy.timeoutMs + 1_000;
  const limits = `Responses over ${policy.maxBytes} bytes and non-text responses are refused`;

  const get = defineTool({
    name: 'http_get',
    description:
      `Fetch a URL with HTTP GET and return status, a few headers and the body as text. ${limits}. ` +
      'Private, loopback and cloud-metadata addresses are refused. HTTP errors (404, 500) are returned, not raised.',
    input: z.object({
      url: Url,
      bearerToken: z.string().max(4096).nullable().meta({
        secret: true,
        description: 'A token to send as "Authorization: Bearer"; null for none. Redirects are not followed with it.',
      }),
    }),
    output: HttpResult,
    risk: 'read',
    timeoutMs,
    async run({ url, bearerToken }, ctx) {
      const init = request('GET', url, ctx);
      // A token must not follow a redirect to another host: with one, a redirect comes back as it is.
      const authed = bearerToken
        ? { ...init, headers: { ...init.headers, authorization: `Bearer ${bearerToken}` }, maxRedirects: 0 }
        : init;
      return textResult(await guardedRequest(guard, policy, authed, ctx.signal));
    },
  });

  const post = defineTool({
    name: 'http_post',
    description:
      'Send an HTTP POST with a JSON or plain-text body and return status, a few headers and the body as text. ' +
      `The body is at most ${MAX_POST_BYTES / 1024} KB. ${limits}. Private, loopback and cloud-metadata ` +
      'addresses are refused. HTTP errors (404, 500) are returned, not raised.',
    input: z.object({
      url: Url,
      body: z
        .string()
        .max(MAX_POST_BYTES)
        .describe(`The request body (at most ${MAX_POST_BYTES / 1024} KB)`),
      contentType: z
        .enum(['application/json', 'text/plain'])
        .describe('"application/json" (the body must then be valid JSON) or "text/plain"'),
    }),
    output: HttpResult,
    risk: 'write',
    timeoutMs,
    async run({ url, body, contentType }, ctx) {
      const bytes = Buffer.from(body, 'utf8');
      if (bytes.length > MAX_POST_BYTES) {
        throw new ToolFailure(`The body is ${bytes.length} bytes; http_post sends at most ${MAX_POST_BYTES} bytes`);
      }
      if (contentType === 'application/json' && !isJson(body)) {
        throw new ToolFailure('The body is not valid JSON; fix it or send it as "text/plain"');
      }
      const init = { ...request('POST', url, ctx), body: bytes };
      init.headers['content-type'] = `${contentType}; charset=utf-8`;
      return textResult(await guardedRequest(guard, policy, init, ctx.signal));
    },
  });

  return [get, post];
}

function request(method: 'GET' | 'POST', url: string, ctx: ToolContext) {
  const headers: Record<string, string> = {
    accept: 'application/json, text/*;q=0.9, */*;q=0.5',
    // Compressed bodies would need decoding and would dodge the size limit until then.
    'accept-encoding': 'identity',
    'user-agent': 'triad-executor',
    // Lets a server deduplicate a call the executor repeats after a crash; harmless on GET.
    'idempotency-key': ctx.idempotencyKey,
  };
  return { method, url, headers, maxRedirects: MAX_REDIRECTS, readBody: true };
}

function textResult(res: GuardedResponse): z.input<typeof HttpResult> {
  return {
    url: res.url,
    status: res.status,
    headers: pickHeaders(res.headers),
    body: decodeText(res.body, res.headers['content-type']),
    truncated: false,
  };
}

function pickHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const name of SAFE_HEADERS) {
    const value = headers[name];
    if (typeof value === 'string') picked[name] = value;
  }
  return picked;
}

/** Decodes a body with its declared charset (UTF-8 by default), fatally: undecodable bytes are a ToolFailure. */
export function decodeText(body: Buffer, contentType: string | undefined): string {
  const charset = /;\s*charset="?([\w.:-]+)"?/i.exec(contentType ?? '')?.[1] ?? 'utf-8';
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(charset, { fatal: true });
  } catch {
    throw new ToolFailure(`The response uses charset "${charset}", which cannot be decoded`);
  }
  try {
    return decoder.decode(body);
  } catch {
    const kind = contentType ? `content-type "${contentType}"` : 'no content-type';
    throw new ToolFailure(
      `The response body is not valid ${charset} text (${kind}); only text responses are supported`,
    );
  }
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
