import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { EgressError } from './egress-error.js';
import { type CheckedTarget, pinnedLookup, type SsrfGuard } from './ssrf-guard.js';

/** What the operator allows a guarded client: extra hosts, a time limit per call, a response size limit. */
export interface HttpPolicy {
  allowHosts: string[];
  timeoutMs: number;
  maxBytes: number;
}

/** One HTTP exchange to make through the guard. */
export interface GuardedRequestInit {
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** Redirects to follow, each re-checked by the guard; 0 returns the 3xx response itself. */
  maxRedirects: number;
  /** False skips the body (it is not read, so it cannot hit the size limit). */
  readBody: boolean;
}

/** The final response after redirects; `body` is empty when it was not read. */
export interface GuardedResponse {
  url: string;
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
// Failures that say nothing about the request itself, so trying again later may work.
const TRANSIENT = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/**
 * Makes the request with every hop checked by the guard and pinned to the checked address, within
 * policy.timeoutMs overall and policy.maxBytes of body; throws EgressError (refused, timeout, size, network) otherwise.
 * HTTP error statuses are not failures: they are returned like any other response.
 */
export async function guardedRequest(
  guard: SsrfGuard,
  policy: HttpPolicy,
  init: GuardedRequestInit,
  signal: AbortSignal,
): Promise<GuardedResponse> {
  const deadline = AbortSignal.timeout(policy.timeoutMs);
  const combined = AbortSignal.any([signal, deadline]);
  let { method, url, body } = init;
  let headers = { ...init.headers };
  try {
    for (let hop = 0; ; hop++) {
      const target = await guard.check(url, combined);
      const res = await send(target, method, headers, body, combined);
      const location = res.headers.location;
      if (!REDIRECTS.has(res.statusCode ?? 0) || !location || init.maxRedirects === 0) {
        const data = init.readBody ? await readLimited(res, policy.maxBytes) : Buffer.alloc(0);
        if (!init.readBody) res.destroy();
        return { url: target.url.href, status: res.statusCode ?? 0, headers: res.headers, body: data };
      }
      res.destroy(); // a redirect's body is never read, however big the server makes it
      if (hop >= init.maxRedirects) {
        throw new EgressError('too_many_redirects', `Too many redirects (more than ${init.maxRedirects})`);
      }
      url = new URL(location, target.url).href;
      // As browsers do: 303, and 301/302 after a POST, continue as a GET without the body.
      if (res.statusCode === 303 || (method === 'POST' && res.statusCode !== 307 && res.statusCode !== 308)) {
        method = 'GET';
        body = undefined;
        headers = Object.fromEntries(Object.entries(headers).filter(([name]) => name !== 'content-type'));
      }
    }
  } catch (err) {
    if (err instanceof EgressError || signal.aborted) throw err;
    if (deadline.aborted) {
      throw new EgressError('timeout', `The HTTP request timed out after ${policy.timeoutMs} ms`, { retryable: true });
    }
    throw networkFailure(err, url);
  }
}

function send(
  target: CheckedTarget,
  method: string,
  headers: Record<string, string>,
  body: Buffer | undefined,
  signal: AbortSignal,
): Promise<IncomingMessage> {
  const client = target.url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(target.url, {
      method,
      headers: body ? { ...headers, 'content-length': String(body.length) } : headers,
      // A fresh connection per request: a pooled socket was checked under some other call's policy.
      agent: false,
      lookup: pinnedLookup(target.address, target.family),
      signal,
    });
    req.once('response', resolve);
    req.once('error', reject);
    req.end(body);
  });
}

// Reads at most maxBytes, refusing before the first byte when Content-Length already says too much.
async function readLimited(res: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    res.destroy();
    throw tooLarge(maxBytes, `it declares ${declared} bytes`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > maxBytes) {
      res.destroy();
      throw tooLarge(maxBytes, 'it sent more');
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

function tooLarge(maxBytes: number, detail: string): EgressError {
  return new EgressError(
    'too_large',
    `The response body exceeds the size limit of ${maxBytes} bytes (${detail}); it was not read`,
  );
}

function networkFailure(err: unknown, url: string): EgressError {
  const code = (err as NodeJS.ErrnoException).code;
  const origin = URL.parse(url)?.origin ?? url;
  const detail = code ? `${code}: ${(err as Error).message}` : String(err);
  return new EgressError('network', `The request to ${origin} failed (${detail})`, {
    retryable: code !== undefined && TRANSIENT.has(code),
    cause: err,
  });
}
