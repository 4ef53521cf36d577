import type { RedisClient } from '../queue/redis-connection.js';
import { type LuaCommand, luaCommand } from './lua-scripts.js';
import { TriadKeys } from './triad-keys.js';

/** Where a run stands after `take`: it holds a slot (had one, or was just given one), or it waits. */
export type TakeState = 'held' | 'admitted' | 'waiting';

/**
 * A tenant's slots of runs in flight (fair scheduling), in Redis: the runs in flight, and the runs waiting for a slot
 * in order of priority, then arrival. Each change is one script on the tenant's keys (one cluster slot), idempotent
 * per run: a run taken twice holds one slot, a run released twice frees one.
 */
export class TenantSlots {
  readonly keys: TriadKeys;
  private readonly lua: Record<'take' | 'release', LuaCommand>;
  private readonly known = new Set<string>();

  constructor(
    private readonly redis: RedisClient,
    prefix: string,
  ) {
    this.keys = new TriadKeys(prefix);
    this.lua = { take: luaCommand(redis, 'slot-take'), release: luaCommand(redis, 'slot-release') };
  }

  /**
   * Admits the run if the tenant has fewer than `cap` runs in flight and none waits ahead of it, else makes it wait.
   * Returns its state and every run this call admitted (it, or waiting runs ahead of it when `cap` grew).
   */
  async take(
    tenant: string,
    runId: string,
    cap: number,
    priority: number,
    now = Date.now(),
  ): Promise<{ state: TakeState; admitted: string[] }> {
    // The set is only read by the repair sweep: added once per process and tenant, alongside the script.
    const known = this.known.has(tenant);
    this.known.add(tenant);
    const [, reply] = await Promise.all([
      known ? null : this.redis.sadd(this.keys.scheduledTenants(), tenant),
      this.lua.take(
        this.keys.inFlight(tenant),
        this.keys.waiting(tenant),
        this.keys.arrivals(tenant),
        runId,
        String(cap),
        String(priority),
        String(now),
      ),
    ]);
    const [state, ...admitted] = reply as [TakeState, ...string[]];
    return { state, admitted };
  }

  /** Frees the run's slot (or its place in the wait), then fills free slots; returns the runs admitted. */
  async release(tenant: string, runId: string, cap: number, now = Date.now()): Promise<string[]> {
    return (await this.lua.release(
      this.keys.inFlight(tenant),
      this.keys.waiting(tenant),
      runId,
      String(cap),
      String(now),
    )) as string[];
  }

  /** Fills the tenant's free slots from its waiting runs (after its cap grew, or a caller died); the runs admitted. */
  fill(tenant: string, cap: number, now = Date.now()): Promise<string[]> {
    return this.release(tenant, '', cap, now);
  }

  /** The tenant's runs in flight. */
  inFlight(tenant: string): Promise<string[]> {
    return this.redis.zrange(this.keys.inFlight(tenant), '0', '-1');
  }

  /** The tenant's waiting runs, next first. */
  waiting(tenant: string, limit = 1000): Promise<string[]> {
    return this.redis.zrange(this.keys.waiting(tenant), '0', String(limit - 1));
  }

  /** The tenants that have had a run in flight or waiting. */
  tenants(): Promise<string[]> {
    return this.redis.smembers(this.keys.scheduledTenants());
  }
}
