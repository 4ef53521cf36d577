import { type BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import { describeError, duplicateConnection, isCluster, type RedisClient, RUN_REDIS, RunStore } from '@triad/shared';

/** The longest one XREAD blocks: keys of streams that went away leave the read this often. */
const ROUND_MS = 5_000;
const RETRY_MS = 1_000;
/** On a Redis Cluster: how often the event keys of the waiting streams are read. */
const POLL_MS = 200;

interface Waiter {
  key: string;
  after: string;
  done: (news: boolean) => void;
}

/** Orders Redis stream ids (`<ms>-<seq>`, both unsigned 64-bit). */
export function compareStreamIds(a: string, b: string): number {
  const [am, as = 0n] = a.split('-').map(BigInt);
  const [bm, bs = 0n] = b.split('-').map(BigInt);
  return am !== bm ? (am < bm ? -1 : 1) : as === bs ? 0 : as < bs ? -1 : 1;
}

/**
 * One blocking Redis connection per gateway process waits for new events on behalf of every open stream: a single
 * XREAD BLOCK over the event keys of all waiting streams, so the number of Redis clients does not grow with the
 * number of streams. A stream whose key the current read does not cover interrupts it (CLIENT UNBLOCK from the
 * shared connection) and the next read covers it. Waiters learn that there is news and read it themselves (XRANGE
 * on the shared connection): the run store stays the one owner of decoding events.
 *
 * On a Redis Cluster the runs' event keys are in many slots, which one XREAD may not name: there the waiting
 * streams' keys are read (without blocking, each a command to the node of its key) every POLL_MS instead.
 */
@Injectable()
export class RunEventReader implements BeforeApplicationShutdown {
  private readonly logger = new Logger('RunEventReader');
  private readonly waiters = new Set<Waiter>();
  private reader: RedisClient | null = null;
  private started = false;
  private readerId: number | null = null;
  /** The ids the read in flight started from, by key; null between reads. */
  private reading: Map<string, string> | null = null;
  private round = 0;
  private kicking = false;
  private kickAgain = false;
  private wakeLoop: (() => void) | null = null;
  private closed = false;

  constructor(
    private readonly store: RunStore,
    @Inject(RUN_REDIS) private readonly redis: RedisClient,
  ) {}

  /** Resolves true once the run has events after `after`, false after `timeoutMs` or when `signal` aborts. */
  waitForNews(runId: string, after: string, timeoutMs: number, signal: AbortSignal): Promise<boolean> {
    if (signal.aborted || this.closed) return Promise.resolve(false);
    return new Promise((resolve) => {
      const waiter: Waiter = { key: this.store.keys.events(runId), after, done: () => {} };
      const timer = setTimeout(() => waiter.done(false), timeoutMs);
      const onAbort = () => waiter.done(false);
      waiter.done = (news) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.waiters.delete(waiter);
        resolve(news);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.add(waiter);
      this.start();
      if (!this.covered(waiter)) void this.kick();
      this.wakeLoop?.();
    });
  }

  beforeApplicationShutdown(): void {
    this.closed = true;
    for (const w of this.waiters) w.done(false);
    this.wakeLoop?.();
    this.reader?.disconnect();
  }

  private start(): void {
    if (this.started) return;
    this.started = true;
    if (isCluster(this.redis)) {
      void this.poll();
      return;
    }
    this.reader = duplicateConnection(this.redis, 'triad-gateway-sse');
    this.reader.on('error', () => {}); // the loop reports what fails, once per attempt
    // A (re)connected client has a new id, which CLIENT UNBLOCK must name: the loop asks for it before reading.
    this.reader.on('ready', () => {
      this.readerId = null;
    });
    void this.loop();
  }

  private async loop(): Promise<void> {
    while (!this.closed) {
      if (!this.waiters.size) {
        await new Promise<void>((r) => {
          this.wakeLoop = r;
        });
        this.wakeLoop = null;
        continue;
      }
      try {
        if (this.readerId === null) this.readerId = await (this.reader as RedisClient).client('ID');
        // From here to the read, nothing awaits: a waiter added later is seen as not covered, and kicks.
        const from = this.startingPoints();
        if (!from.size) continue;
        this.reading = from;
        const res = await (this.reader as RedisClient).xread(
          'COUNT',
          1,
          'BLOCK',
          ROUND_MS,
          'STREAMS',
          ...from.keys(),
          ...from.values(),
        );
        this.reading = null;
        this.round++;
        for (const [key, rows] of res ?? []) this.wake(key, rows[0]?.[0]);
      } catch (err) {
        this.reading = null;
        this.round++;
        if (this.closed) return;
        this.logger.warn(`waiting for run events failed: ${describeError(err)}`);
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    }
  }

  private async poll(): Promise<void> {
    while (!this.closed) {
      const from = this.startingPoints();
      try {
        const replies = await Promise.all(
          [...from].map(([key, after]) => this.redis.xread('COUNT', 1, 'STREAMS', key, after)),
        );
        for (const res of replies) for (const [key, rows] of res ?? []) this.wake(key, rows[0]?.[0]);
      } catch (err) {
        if (this.closed) return;
        this.logger.warn(`waiting for run events failed: ${describeError(err)}`);
      }
      // Woken early by a new waiter, so that its first news is not a round late.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, from.size ? POLL_MS : RETRY_MS * 60);
        this.wakeLoop = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wakeLoop = null;
    }
  }

  /** Per event key, the earliest id a waiter has seen: the read returns what any of them has not. */
  private startingPoints(): Map<string, string> {
    const from = new Map<string, string>();
    for (const w of this.waiters) {
      const current = from.get(w.key);
      if (current === undefined || compareStreamIds(w.after, current) < 0) from.set(w.key, w.after);
    }
    return from;
  }

  private wake(key: string, firstNewId: string | undefined): void {
    if (!firstNewId) return;
    for (const w of this.waiters) if (w.key === key && compareStreamIds(firstNewId, w.after) > 0) w.done(true);
  }

  /** Whether the read in flight (if any) would see the waiter's news; between reads the next one will. */
  private covered(w: Waiter): boolean {
    const from = this.reading?.get(w.key);
    return !this.reading || (from !== undefined && compareStreamIds(from, w.after) <= 0);
  }

  // Interrupts the read in flight so that the next one covers a new waiter. The read may not have reached Redis
  // yet (UNBLOCK answers 0): try again until that round is over.
  private async kick(): Promise<void> {
    if (this.kicking) {
      this.kickAgain = true;
      return;
    }
    this.kicking = true;
    try {
      do {
        this.kickAgain = false;
        const round = this.round;
        while (this.round === round && this.reading && !this.closed) {
          if (this.readerId !== null && (await this.redis.client('UNBLOCK', this.readerId)) === 1) break;
          await new Promise((r) => setTimeout(r, 5));
        }
      } while (this.kickAgain && [...this.waiters].some((w) => !this.covered(w)));
    } catch (err) {
      this.logger.warn(`could not interrupt the event read: ${describeError(err)}`);
    } finally {
      this.kicking = false;
    }
  }
}
