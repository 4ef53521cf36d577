// The console's runs page against 10 000 runs of one tenant: what a page view costs the gateway and Redis. Times
// each kind of request the page makes (first page, a status filter, a search by goal text that matches one run, the
// counts by status) and counts the whole-record reads (HGETALL) each one makes. Runs are written straight into the
// run store on a private redis-server; no planner is needed for runs that only have to be listed.
import { createRedisConnection, GoalRequest, RunStore } from '@triad/shared';
import type { Redis } from 'ioredis';
import {
  type BenchOptions,
  deleteKeys,
  log,
  median,
  onCleanup,
  randomPrefix,
  round,
  startGateway,
  startPrivateRedis,
} from './support.ts';

async function hgetalls(redis: Redis): Promise<number> {
  return Number(/cmdstat_hgetall:calls=(\d+)/.exec(await redis.info('commandstats'))?.[1] ?? 0);
}

export async function measureRunListing(opts: BenchOptions) {
  const runs = opts.quick ? 2_000 : 10_000;
  const views = opts.quick ? 5 : 20;
  const server = await startPrivateRedis();
  const prefix = randomPrefix('l');
  const redis = createRedisConnection(server.url, 'bench');
  const { gateway, port } = await startGateway(server.url, prefix);
  const stop = onCleanup('run listing bench', async () => {
    await gateway.stop(5_000);
    await deleteKeys(redis, prefix);
    await redis.quit();
    await server.stop();
  });
  try {
    const store = new RunStore(redis, prefix);
    log(`run listing: writing ${runs} runs (one in 5 failed)`);
    const t0 = Date.now() - runs;
    for (let i = 0; i < runs; i += 250) {
      await Promise.all(
        Array.from({ length: Math.min(250, runs - i) }, (_, j) => {
          const n = i + j;
          const id = `list-${n}`;
          const goal = `summarise report ${n} for the weekly review`;
          return n % 5 === 0
            ? store.createRejected(id, { code: 'invalid_goal', message: 'bench' }, t0 + n)
            : store.create(id, GoalRequest.parse({ goal }), t0 + n);
        }),
      );
    }
    const base = `http://127.0.0.1:${port}`;
    const kinds: [string, string, string][] = [
      ['firstPage', 'first page (25)', '/v1/runs?limit=25'],
      ['statusFilter', 'status filter, page of 25 failed', '/v1/runs?limit=25&status=failed'],
      ['search', 'search by goal text, 1 match', `/v1/runs?limit=25&q=${encodeURIComponent(`report ${runs - 2} for`)}`],
      ['countsCold', 'counts by status, read', '/v1/run-counts'],
      ['countsCached', 'counts by status, cached (3 s)', '/v1/run-counts'],
    ];
    const rows = [];
    const figures: Record<string, number> = { listingRuns: runs };
    for (const [key, name, path] of kinds) {
      const ms: number[] = [];
      const reads: number[] = [];
      for (let v = 0; v < views; v++) {
        // Cold counts: wait out the gateway's cache before each view.
        if (key === 'countsCold') await new Promise((r) => setTimeout(r, 3_100));
        const before = await hgetalls(redis);
        const start = performance.now();
        const res = await fetch(`${base}${path}`);
        await res.json();
        if (!res.ok) throw new Error(`${path} answered ${res.status}`);
        ms.push(performance.now() - start);
        reads.push((await hgetalls(redis)) - before);
      }
      figures[`listing_${key}_ms`] = round(median(ms), 1);
      figures[`listing_${key}_recordReads`] = Math.max(...reads);
      rows.push({
        measure: `${name}, ${runs} runs`,
        value: `${median(ms).toFixed(1)} ms`,
        note: `median of ${views} (max ${Math.max(...ms).toFixed(0)} ms); whole records read: ${Math.max(...reads)}`,
      });
      log(`run listing: ${name}: median ${median(ms).toFixed(1)} ms, max ${Math.max(...ms).toFixed(0)} ms`);
    }
    return { figures, rows };
  } finally {
    await stop();
  }
}
