import { isTerminal, RunEvent, type StoredRunEvent } from '@triad/contracts';
import { TriadApiError, TriadConnectionError } from './client-errors.js';
import { readSse, SseParser } from './sse-parser.js';

export interface EventStreamOptions {
  /** Start after this event id (a Redis stream id); from the beginning when absent. */
  lastEventId?: string;
  signal?: AbortSignal;
  /** Reconnects in a row without a new event before giving up (default 5). */
  maxRetries?: number;
  /** First reconnect delay, doubled each time up to 10 s (default 250 ms). */
  retryDelayMs?: number;
}

/** What the stream needs from the client: one SSE request, and the run's status when a stream ends early. */
export interface EventSource {
  open(runId: string, lastEventId: string | undefined, signal: AbortSignal | undefined): Promise<Response>;
  isFinished(runId: string, signal: AbortSignal | undefined): Promise<boolean>;
}

const MAX_DELAY_MS = 10_000;

/** Orders Redis stream ids (`<ms>-<seq>`): a repeat after a reconnect is never yielded twice. */
export function compareStreamIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(BigInt);
  const [bm, bs] = b.split('-').map(BigInt);
  if (am !== bm) return am < bm ? -1 : 1;
  if (as !== bs) return (as ?? 0n) < (bs ?? 0n) ? -1 : 1;
  return 0;
}

/**
 * A run's events, from SSE, until the gateway ends the stream after the run's end: the terminal `status.changed`,
 * then the result webhook's `webhook.delivered` / `webhook.failed` when one is due. A dropped connection (network
 * error, 5xx, or a stream that ends before the run did) is reopened with Last-Event-ID after a backoff; 4xx answers
 * are thrown.
 */
export async function* runEvents(
  source: EventSource,
  runId: string,
  opts: EventStreamOptions = {},
): AsyncGenerator<StoredRunEvent> {
  const maxRetries = opts.maxRetries ?? 5;
  let last = opts.lastEventId;
  let failures = 0;
  let delayHint: number | null = null;
  let sawEnd = false;
  for (;;) {
    opts.signal?.throwIfAborted();
    let progressed = false;
    let failure: unknown = null;
    try {
      const res = await source.open(runId, last, opts.signal);
      if (!res.ok) {
        const error = TriadApiError.fromBody(res.status, res.statusText, await res.text());
        if (res.status < 500) throw error;
        failure = error;
      } else if (!res.body) {
        failure = new TriadConnectionError('event stream answered without a body');
      } else {
        const parser = new SseParser();
        for await (const m of readSse(res.body, parser)) {
          delayHint = parser.reconnectMs ?? delayHint;
          if (m.id === null || (last !== undefined && compareStreamIds(m.id, last) <= 0)) continue;
          const event = parseEvent(m.data, m.id);
          last = m.id;
          progressed = true;
          failures = 0;
          yield event;
          if (event.type === 'status.changed' && isTerminal(event.to)) sawEnd = true;
        }
        // The server closed the stream: after the run's end, that is the end; before it, the server went away,
        // or the run ended before `last`.
        if (sawEnd || (await source.isFinished(runId, opts.signal))) return;
      }
    } catch (err) {
      if (err instanceof TriadApiError || opts.signal?.aborted) throw err;
      failure = err;
    }
    if (!progressed) failures++;
    if (failures > maxRetries) {
      const why = failure instanceof Error ? failure.message : 'the stream keeps ending early';
      throw new TriadConnectionError(`event stream of run ${runId} lost after ${maxRetries} retries: ${why}`);
    }
    const base = Math.max(opts.retryDelayMs ?? 250, delayHint ?? 0);
    await sleep(Math.min(base * 2 ** Math.max(failures - 1, 0), MAX_DELAY_MS), opts.signal);
  }
}

function parseEvent(data: string, id: string): StoredRunEvent {
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    throw new TriadApiError(200, 'invalid_response', `event ${id} is not JSON`);
  }
  const parsed = RunEvent.safeParse(json);
  if (!parsed.success) throw new TriadApiError(200, 'invalid_response', `event ${id} is not a run event`);
  return { ...parsed.data, id };
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
