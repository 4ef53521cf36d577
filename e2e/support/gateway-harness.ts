import { freePort } from '../../cli/src/stack/local-redis.js';
import type { ServiceProcess } from '../../cli/src/stack/service-processes.js';
import { DEFAULT_WAIT_MS } from './eventually.js';
import type { TriadHarness } from './triad-harness.js';

/** A gateway process started beside a TriadHarness (stopped with it), and a small HTTP client for it. */
export class GatewayClient {
  private constructor(
    readonly url: string,
    readonly process: ServiceProcess,
  ) {}

  static async start(triad: TriadHarness, env: Record<string, string> = {}): Promise<GatewayClient> {
    const port = await freePort();
    const proc = await triad.spawn('gateway', 'gateway', {
      TRIAD_GATEWAY_HOST: '127.0.0.1',
      TRIAD_GATEWAY_PORT: String(port),
      ...env,
    });
    return new GatewayClient(`http://127.0.0.1:${port}`, proc);
  }

  /** Sends a request; `body` is JSON-encoded unless it is already a string. */
  async call(
    method: string,
    path: string,
    opts: { key?: string; body?: unknown; headers?: Record<string, string> } = {},
    // biome-ignore lint/suspicious/noExplicitAny: tests inspect the answers' fields directly
  ): Promise<{ status: number; body: any; headers: Headers }> {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.key) headers.authorization = `Bearer ${opts.key}`;
    if (opts.body !== undefined) headers['content-type'] ??= 'application/json';
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers,
      body: opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {}
    return { status: res.status, body, headers: res.headers };
  }
}

export interface SseMessage {
  id: string | null;
  event: string | null;
  data: string;
}

/**
 * Reads a Server-Sent Events stream until it ends or `stopAfter` says so (then the client disconnects);
 * keep-alive comments are skipped. A stream still open after `timeoutMs` is an error that lists what came.
 */
export async function readSse(
  url: string,
  headers: Record<string, string>,
  stopAfter: (m: SseMessage) => boolean = () => false,
  timeoutMs = DEFAULT_WAIT_MS,
): Promise<{ status: number; messages: SseMessage[]; ended: boolean }> {
  const abort = new AbortController();
  const messages: SseMessage[] = [];
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    return await readEvents(url, headers, stopAfter, abort, messages);
  } catch (err) {
    if (!abort.signal.aborted) throw err;
    const seen = messages.map((m) => `${m.id} ${m.event}`).join(', ');
    throw new Error(`gave up reading the event stream ${url} after ${timeoutMs} ms; received: ${seen}`);
  } finally {
    clearTimeout(timer);
  }
}

async function readEvents(
  url: string,
  headers: Record<string, string>,
  stopAfter: (m: SseMessage) => boolean,
  abort: AbortController,
  messages: SseMessage[],
): Promise<{ status: number; messages: SseMessage[]; ended: boolean }> {
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
  if (!res.ok || !res.body) return { status: res.status, messages, ended: true };
  const decoder = new TextDecoder();
  let buffer = '';
  let stopped = false;
  try {
    for await (const chunk of res.body) {
      buffer += decoder.decode(chunk, { stream: true });
      let cut = buffer.indexOf('\n\n');
      while (cut >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        cut = buffer.indexOf('\n\n');
        const m: SseMessage = { id: null, event: null, data: '' };
        for (const line of block.split('\n')) {
          if (line.startsWith('id: ')) m.id = line.slice(4);
          else if (line.startsWith('event: ')) m.event = line.slice(7);
          else if (line.startsWith('data: ')) m.data += line.slice(6);
        }
        if (!m.event) continue; // a comment or the retry hint
        messages.push(m);
        if (stopAfter(m)) {
          stopped = true;
          abort.abort(); // the client goes away mid-stream
          return { status: res.status, messages, ended: false };
        }
      }
    }
  } catch (err) {
    // Aborting makes closing the body iterator throw; only then is the error ours.
    if (!stopped) throw err;
    return { status: res.status, messages, ended: false };
  }
  return { status: res.status, messages, ended: true };
}
