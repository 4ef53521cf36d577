import { type BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import {
  describeError,
  isTerminal,
  RunStore,
  type StoredRunEvent,
  TRIAD_CONFIG,
  type TriadConfig,
  WEBHOOK_OUTCOME_KEY,
  WebhookOutcome,
} from '@triad/shared';
import type { Request, Response } from 'express';
import { compareStreamIds, RunEventReader } from './run-event-reader.js';
import { streamComplete, webhookWaitMs } from './stream-end.js';
import { StreamSlots } from './stream-slots.js';

const PAGE = 1000;

const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  'x-accel-buffering': 'no', // proxies must not buffer the stream
};

const writeEvent = (res: Response, id: string, event: Omit<StoredRunEvent, 'id'>) =>
  res.write(`id: ${id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);

/**
 * Streams a run's events to one SSE client: `id:` is the Redis stream id, `event:` the type, `data:` the JSON.
 * Streams share the gateway's Redis connections (RunEventReader waits for news for all of them) and take a place
 * in StreamSlots while open. A stream ends once the run has ended and its result webhook's outcome is recorded
 * (or none is due, or it is overdue): the `webhook.delivered` / `webhook.failed` event is its last.
 */
@Injectable()
export class RunEventStream implements BeforeApplicationShutdown {
  private readonly logger = new Logger('RunEventStream');
  private readonly open = new Set<AbortController>();
  private readonly webhookWaitMs: number;

  constructor(
    private readonly store: RunStore,
    private readonly reader: RunEventReader,
    private readonly slots: StreamSlots,
    @Inject(TRIAD_CONFIG) private readonly config: TriadConfig,
  ) {
    this.webhookWaitMs = webhookWaitMs(config.resultWebhooks);
  }

  /** Writes events after `afterId` until the stream is complete or the client leaves; 429 past a cap. */
  async pipe(runId: string, afterId: string, keyName: string, req: Request, res: Response): Promise<void> {
    const giveBack = this.slots.take(keyName);
    const closed = new AbortController();
    this.open.add(closed);
    req.on('close', () => closed.abort());
    res.on('close', () => closed.abort());
    try {
      res.writeHead(200, SSE_HEADERS);
      res.write('retry: 2000\n\n');
      await this.loop(runId, afterId, res, closed.signal);
    } catch (err) {
      if (!closed.signal.aborted) this.logger.warn(`event stream of run ${runId} broke: ${describeError(err)}`);
    } finally {
      this.open.delete(closed);
      giveBack();
      res.end();
    }
  }

  /** Writes the events (of an ended run, read from the archive) after `afterId`, then ends the stream. */
  pipeEnded(events: StoredRunEvent[], afterId: string, res: Response): void {
    res.writeHead(200, SSE_HEADERS);
    for (const { id, ...event } of events) {
      if (afterId === '0' || compareStreamIds(id, afterId) > 0) writeEvent(res, id, event);
    }
    res.end();
  }

  // Before the HTTP server closes: it waits for open connections, and a stream would hold it open.
  beforeApplicationShutdown(): void {
    for (const c of this.open) c.abort();
  }

  private async loop(runId: string, after: string, res: Response, closed: AbortSignal): Promise<void> {
    let last = after;
    while (!closed.aborted) {
      // Read the state first, the events second: whatever made the state so has then been sent.
      const run = await this.store.get(runId);
      const outcome =
        run && isTerminal(run.status) && run.request?.callbackUrl
          ? await this.store.getOnce(runId, WEBHOOK_OUTCOME_KEY, WebhookOutcome)
          : null;
      const events = await this.store.events(runId, last, PAGE);
      for (const { id, ...event } of events) {
        writeEvent(res, id, event);
        last = id;
      }
      if (events.length === PAGE) continue;
      if (streamComplete(run, outcome !== null, this.webhookWaitMs, Date.now())) return;
      if (events.length) continue;
      const news = await this.reader.waitForNews(runId, last, this.config.gateway.sseKeepAliveMs, closed);
      if (!news && !closed.aborted) res.write(': keep-alive\n\n');
    }
  }
}
