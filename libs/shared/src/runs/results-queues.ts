import { QUEUES, resultsQueueOf } from '@triad/contracts';
import type { Queue } from 'bullmq';
import type { RedisClient } from '../queue/redis-connection.js';
import { type LuaCommand, luaCommand } from '../store/lua-scripts.js';
import { TriadKeys } from '../store/triad-keys.js';

/** Queue objects kept open for producers' results queues in one process; the least recently used is closed beyond. */
const MAX_OPEN = 64;
/** The fields BullMQ writes into a queue's meta hash by itself when jobs are added. */
const BULLMQ_META = new Set(['opts.maxLenEvents', 'version']);

/**
 * Where `run.finished` goes: the shared `results` queue, or the run's producer's own one (GoalRequest.resultsQueue,
 * see resultsQueueOf). Every own queue published to is registered with the time of its last result, so the retention
 * sweep can bound what a queue nobody consumes keeps, and forget a queue idle longer than the retention.
 */
export class ResultsQueues {
  private readonly keys: TriadKeys;
  private readonly open = new Map<string, Queue>();
  private readonly forget: LuaCommand;

  constructor(
    readonly shared: Queue,
    private readonly redis: RedisClient,
    prefix: string,
    private readonly openQueue: (name: string) => Queue,
  ) {
    this.keys = new TriadKeys(prefix);
    this.forget = luaCommand(redis, 'forget-results-queue');
  }

  /** The queue of this run's result (registered first, so a result is never in a queue the sweep does not know). */
  async queueFor(tenant: string, resultsQueue: string | undefined): Promise<Queue> {
    const name = resultsQueueOf(tenant, resultsQueue);
    if (name === QUEUES.results) return this.shared;
    await this.redis.zadd(this.keys.resultsQueues(), Date.now(), name);
    return this.queue(name);
  }

  /** The registered own results queues: name -> when a result was last published there. */
  async registered(): Promise<Map<string, number>> {
    const flat = await this.redis.zrange(this.keys.resultsQueues(), '0', '-1', 'WITHSCORES');
    const out = new Map<string, number>();
    for (let i = 0; i + 1 < flat.length; i += 2) out.set(flat[i] as string, Number(flat[i + 1]));
    return out;
  }

  /**
   * Forgets an own queue that has had no result since `before` and holds no job: its entry and BullMQ's keys of it
   * go. Only when the entry is still that old at removal (a result published meanwhile keeps it). True if gone.
   */
  async forgetIdle(name: string, before: number): Promise<boolean> {
    const queue = this.queue(name);
    const counts = await queue.getJobCounts();
    if (Object.values(counts).some((n) => n > 0)) return false;
    if ((await this.forget(this.keys.resultsQueues(), name, String(before))) !== 1) return false;
    // What BullMQ leaves of an empty queue: its event stream, id counter, marker, and its meta hash, which is kept
    // when it holds more than BullMQ's own bookkeeping (a consumer's pause, concurrency or rate limit).
    const meta = Object.keys(await this.redis.hgetall(queue.keys.meta));
    const ownMeta = meta.every((field) => BULLMQ_META.has(field));
    await this.redis.del(queue.keys.events, queue.keys.id, queue.keys.marker, ...(ownMeta ? [queue.keys.meta] : []));
    this.open.delete(name);
    await queue.close();
    return true;
  }

  /** A Queue object for one of the queues, kept open for the next result. */
  queue(name: string): Queue {
    if (name === QUEUES.results) return this.shared;
    let queue = this.open.get(name);
    if (queue) this.open.delete(name);
    else queue = this.openQueue(name);
    this.open.set(name, queue);
    if (this.open.size > MAX_OPEN) {
      const [oldest, q] = this.open.entries().next().value as [string, Queue];
      this.open.delete(oldest);
      void q.close().catch(() => {});
    }
    return queue;
  }

  /** Closes the Queue objects (their connection is shared and stays open). */
  onModuleDestroy(): Promise<void> {
    return this.close();
  }

  async close(): Promise<void> {
    await Promise.all([...this.open.values()].map((q) => q.close()));
    this.open.clear();
  }
}
