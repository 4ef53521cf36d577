import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { duplicateConnection, type RedisClient, RUN_REDIS, RunStore } from '@triad/shared';

/** Aborts the tools in flight of a cancelled run: cancellations arrive on a Redis channel, to every executor. */
@Injectable()
export class CancelListener implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(CancelListener.name);
  private readonly inFlight = new Map<string, Set<AbortController>>();
  private subscriber: RedisClient | null = null;

  constructor(
    @Inject(RUN_REDIS) private readonly redis: RedisClient,
    private readonly store: RunStore,
  ) {}

  async onModuleInit(): Promise<void> {
    const subscriber = duplicateConnection(this.redis, 'triad-executor-cancel');
    this.subscriber = subscriber;
    subscriber.on('message', (_channel: string, runId: string) => this.abort(runId));
    await subscriber.subscribe(this.store.keys.cancelChannel());
  }

  async onModuleDestroy(): Promise<void> {
    await this.subscriber?.quit().catch(() => this.subscriber?.disconnect());
  }

  /** Registers a step's controller until the returned function is called. */
  track(runId: string, controller: AbortController): () => void {
    const set = this.inFlight.get(runId) ?? new Set<AbortController>();
    set.add(controller);
    this.inFlight.set(runId, set);
    return () => {
      set.delete(controller);
      if (!set.size) this.inFlight.delete(runId);
    };
  }

  private abort(runId: string): void {
    const set = this.inFlight.get(runId);
    if (!set) return;
    this.logger.log(`run ${runId} cancelled: aborting ${set.size} tool call(s)`);
    for (const c of set) c.abort(new Error('run cancelled'));
  }
}
