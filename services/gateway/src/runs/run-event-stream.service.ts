import { type BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import {
  describeError,
  isTerminal,
  RUN_REDIS,
  RunStore,
  type StoredRunEvent,
  TRIAD_CONFIG,
  type TriadConfig,
} from '@triad/shared';
import type { Request, Response } from 'express';
import type { Redis } from 'ioredis';

const isEnd = (e: StoredRunEvent) => e.type === 'status.changed' && isTerminal(e.to);

/**
 * Streams a run's events to one SSE client: `id:` is the Redis stream id, `event:` the type, `data:` the JSON.
 * Each client gets its own blocking Redis connection (XREAD BLOCK holds it), closed when the client goes away;
 * the stream ends after the run's terminal `status.changed`.
 */
@Injectable()
export class RunEventStream implements BeforeApplicationShutdown {
  private readonly logger = new Logger('RunEventStream');
  private readonly open = new Set<() => void>();

  constructor(
    private readonly store: RunStore,
    @Inject(RUN_REDIS) private readonly redis: Redis,
    @Inject(TRIAD_CONFIG) private readonly config: TriadConfig,
  ) {}

  /** Writes events after `afterId` until the run ends or the client leaves. */
  async pipe(runId: string, afterId: string, req: Request, res: Response): Promise<void> {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no', // proxies must not buffer the stream
    });
    res.write('retry: 2000\n\n');
    const blocking = this.redis.duplicate({ connectionName: `triad-gateway-sse-${runId}` });
    let closed = false;
    const close = () => {
      closed = true;
      blocking.disconnect();
    };
    this.open.add(close);
    req.on('close', close);
    try {
      await this.loop(runId, afterId, res, blocking, () => closed);
    } catch (err) {
      if (!closed) this.logger.warn(`event stream of run ${runId} broke: ${describeError(err)}`);
    } finally {
      this.open.delete(close);
      close();
      res.end();
    }
  }

  // Before the HTTP server closes: it waits for open connections, and a stream would hold it open.
  beforeApplicationShutdown(): void {
    for (const close of this.open) close();
  }

  private async loop(runId: string, after: string, res: Response, blocking: Redis, closed: () => boolean) {
    let last = after;
    while (!closed()) {
      let events = await this.store.events(runId, last, 1000);
      if (!events.length) {
        // Nothing new: if the run has ended, the client has seen its end already.
        const run = await this.store.get(runId);
        if (run && isTerminal(run.status)) return;
        events = await this.store.waitForEvents(blocking, runId, last, this.config.gateway.sseKeepAliveMs);
        if (!events.length) {
          res.write(': keep-alive\n\n');
          continue;
        }
      }
      for (const e of events) {
        const { id, ...event } = e;
        res.write(`id: ${id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
        last = id;
        if (isEnd(e)) return;
      }
    }
  }
}
