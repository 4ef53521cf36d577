import { masterNodes, type RedisClient } from '../queue/redis-connection.js';

/** How often Redis's memory is read (one INFO command; its answer is kept until the next). */
export const CAPACITY_SAMPLE_MS = 1_000;
/** Once paused, intake resumes only below this share of the threshold, so it does not flap around it. */
export const CAPACITY_RESUME_RATIO = 0.95;
/** What a refused submission is told to wait (Retry-After) before it tries again. */
export const CAPACITY_RETRY_AFTER_SECONDS = 30;

/** Redis's memory as its maxmemory check counts it. */
export interface RedisMemory {
  /** used_memory minus what Redis leaves out of its maxmemory check (replication and AOF buffers). */
  usedBytes: number;
  /** maxmemory; 0 when Redis has no limit. */
  maxBytes: number;
}

/** What the guard knows at the last sample. */
export interface CapacityState {
  /** Intake is paused: memory passed the threshold and has not yet fallen below the resume mark. */
  high: boolean;
  /** Used memory over maxmemory, or null when not known (no maxmemory, INFO not readable, not sampled yet). */
  usedFraction: number | null;
  /** TRIAD_REDIS_MEMORY_HIGH; 0 when the guard is off. */
  threshold: number;
  /** Why the guard is not watching, when it is not (it then never pauses intake). */
  off?: string;
}

/** The memory fields of an `INFO memory` answer, or null when it has none. */
export function parseRedisMemory(info: string): RedisMemory | null {
  const field = (name: string) => {
    const m = new RegExp(`^${name}:(\\d+)`, 'm').exec(info);
    return m ? Number(m[1]) : undefined;
  };
  const used = field('used_memory');
  const max = field('maxmemory');
  if (used === undefined || max === undefined) return null;
  return { usedBytes: Math.max(0, used - (field('mem_not_counted_for_evict') ?? 0)), maxBytes: max };
}

/**
 * Hysteresis: paused at or above the threshold, and once paused, until below CAPACITY_RESUME_RATIO of it. An
 * unknown fraction (no maxmemory) never pauses.
 */
export function nextHigh(wasHigh: boolean, usedFraction: number | null, threshold: number): boolean {
  if (usedFraction === null || threshold <= 0) return false;
  return usedFraction >= (wasHigh ? threshold * CAPACITY_RESUME_RATIO : threshold);
}

/**
 * The capacity guard's one owner: samples Redis's memory (`INFO memory`) every CAPACITY_SAMPLE_MS, keeps the answer,
 * and says whether intake should pause (`high`). Every reader uses the kept state, so asking costs nothing. A sample
 * that fails (Redis away) keeps the last state. Each process decides for itself from the same figures; a Redis
 * without maxmemory, or one that refuses INFO, is not guarded (`off` says why).
 */
export class RedisCapacity {
  private current: CapacityState;
  private readonly listeners = new Set<(state: CapacityState) => void>();
  private timer: NodeJS.Timeout | undefined;
  private sampling: Promise<CapacityState> | undefined;

  constructor(
    private readonly redis: RedisClient,
    readonly threshold: number,
    private readonly intervalMs = CAPACITY_SAMPLE_MS,
  ) {
    this.current = {
      high: false,
      usedFraction: null,
      threshold,
      ...(threshold > 0 ? {} : { off: 'TRIAD_REDIS_MEMORY_HIGH is 0' }),
    };
  }

  /** Whether intake is paused now. */
  get high(): boolean {
    return this.current.high;
  }

  get state(): CapacityState {
    return this.current;
  }

  /** One line for logs and health answers: why intake is paused, or that it is open. */
  describe(): string {
    const s = this.current;
    if (s.off) return `not guarded: ${s.off}`;
    const used = s.usedFraction === null ? 'unknown' : `${(s.usedFraction * 100).toFixed(1)}%`;
    const limit = `TRIAD_REDIS_MEMORY_HIGH ${s.threshold}`;
    return s.high
      ? `redis memory high: ${used} of maxmemory used (paused at ${limit}, resumes below ${round(s.threshold * CAPACITY_RESUME_RATIO)})`
      : `redis memory ${used} of maxmemory (pauses at ${limit})`;
  }

  /** Calls `listener` whenever `high` changes; returns the unsubscribe. */
  onChange(listener: (state: CapacityState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Reads Redis's memory now and updates the state (one read at a time; concurrent callers share it). */
  sample(): Promise<CapacityState> {
    if (this.threshold <= 0) return Promise.resolve(this.current);
    this.sampling ??= this.read().finally(() => {
      this.sampling = undefined;
    });
    return this.sampling;
  }

  /** Samples now, then every interval until stop(). */
  async start(): Promise<void> {
    if (this.threshold <= 0 || this.timer) return;
    this.timer = setInterval(() => void this.sample(), this.intervalMs);
    this.timer.unref();
    await this.sample();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  // Nest lifecycle, when the guard is a provider (see nest/redis-capacity.provider.ts).
  onApplicationBootstrap(): Promise<void> {
    return this.start();
  }

  onModuleDestroy(): void {
    this.stop();
  }

  private async read(): Promise<CapacityState> {
    // On a Redis Cluster every master has its own maxmemory: the fullest one decides.
    const nodes = await masterNodes(this.redis).catch(() => []);
    let fullest: number | null = null;
    for (const node of nodes) {
      const info = await node.info('memory').catch((err: Error) => err);
      if (info instanceof Error) {
        // Refused by an ACL or the server: INFO will not come back, so the guard is off. Anything else (Redis away,
        // a timeout) keeps the last state; readiness reports Redis itself.
        if (/NOPERM|unknown command|not allowed/i.test(info.message))
          this.update(null, `INFO refused: ${info.message}`);
        return this.current;
      }
      const memory = parseRedisMemory(info);
      if (!memory) return this.offWith('INFO memory has no used_memory or maxmemory');
      if (memory.maxBytes === 0) return this.offWith('Redis has no maxmemory');
      fullest = Math.max(fullest ?? 0, memory.usedBytes / memory.maxBytes);
    }
    if (fullest !== null) this.update(fullest, undefined);
    return this.current;
  }

  private offWith(reason: string): CapacityState {
    this.update(null, reason);
    return this.current;
  }

  private update(usedFraction: number | null, off: string | undefined): void {
    const high = nextHigh(this.current.high, usedFraction, this.threshold);
    const changed = high !== this.current.high || off !== this.current.off;
    this.current = { high, usedFraction, threshold: this.threshold, ...(off ? { off } : {}) };
    if (!changed) return;
    for (const listener of this.listeners) listener(this.current);
  }
}

const round = (v: number) => Math.round(v * 1000) / 1000;
