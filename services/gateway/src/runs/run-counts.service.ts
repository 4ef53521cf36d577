import { Inject, Injectable } from '@nestjs/common';
import { type RedisClient, RUN_REDIS, type RunCountsResponse, RunStatus, RunStore } from '@triad/shared';

/** How long a tenant's counts are reused: a console polls them; 10 000 runs cost one field read each. */
const FRESH_MS = 3_000;
const BATCH = 1_000;

/**
 * Counts of a tenant's runs by status. Reads the `status` field alone of each run in the index (commands sent
 * together, a batch at a time, so it works on a Redis Cluster too), at most once per FRESH_MS per tenant and process;
 * concurrent callers share one read.
 */
@Injectable()
export class RunCountsService {
  private readonly cache = new Map<string, { at: number; counts: Promise<RunCountsResponse> }>();

  constructor(
    private readonly store: RunStore,
    @Inject(RUN_REDIS) private readonly redis: RedisClient,
  ) {}

  counts(tenant: string, now = Date.now()): Promise<RunCountsResponse> {
    const hit = this.cache.get(tenant);
    if (hit && now - hit.at < FRESH_MS) return hit.counts;
    const counts = this.read(tenant);
    this.cache.set(tenant, { at: now, counts });
    counts.catch(() => this.cache.delete(tenant));
    if (this.cache.size > 1_000) this.cache.delete(this.cache.keys().next().value as string);
    return counts;
  }

  private async read(tenant: string): Promise<RunCountsResponse> {
    const counts = Object.fromEntries(RunStatus.options.map((s) => [s, 0])) as RunCountsResponse['counts'];
    let total = 0;
    for (let offset = 0; ; offset += BATCH) {
      const ids = await this.store.list(tenant, offset, BATCH);
      const statuses = await Promise.all(ids.map((id) => this.redis.hget(this.store.keys.run(id), 'status')));
      for (const s of statuses) {
        const status = RunStatus.safeParse(s);
        if (!status.success) continue; // removed between the two reads
        counts[status.data]++;
        total++;
      }
      if (ids.length < BATCH) return { total, counts };
    }
  }
}
