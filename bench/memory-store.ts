// Semantic memory shared through Redis (libs/shared/src/memory/redis-semantic-memory.ts): one tenant of 100 000
// entries of 256 dimensions in a private redis-server, written through the store's add script (vectors from
// `clusteredVectors`, so the fill does not wait on embeddings). Then: Redis bytes per entry; the time a replica takes
// to load the tenant on its first search (every entry read in pipelined batches, the vector index filled); a search
// end to end (the query's embedding from the scripted model over HTTP, the change-log check, the index search, the
// top 10 read from Redis) when nothing changed, and right after another replica wrote an entry, once the replicas'
// HNSW graphs are complete; the change-log check alone (the round trip every search pays) beside a PING.
import {
  createRedisConnection,
  Embedder,
  loadConfig,
  MemoryStore,
  RedisSemanticMemory,
  type TriadConfig,
} from '@triad/shared';
import { clusteredVectors } from '@triad/testing';
import {
  type BenchOptions,
  deleteKeys,
  fmt,
  log,
  median,
  onCleanup,
  percentile,
  type Row,
  randomPrefix,
  redisUsedMemory,
  round,
  startModel,
  startPrivateRedis,
} from './support.ts';

const TENANT = 'bench';
const DIMENSIONS = 256;
const MODEL = 'hashing';

export async function measureMemoryStore(opts: BenchOptions) {
  const entries = opts.quick ? 20_000 : 100_000;
  const searches = opts.quick ? 50 : 100;
  const server = await startPrivateRedis();
  const model = await startModel([]);
  const prefix = randomPrefix('m');
  const redis = createRedisConnection(server.url, 'bench');
  const stop = onCleanup('memory store bench', async () => {
    await deleteKeys(redis, prefix);
    await redis.quit();
    await server.stop();
  });
  try {
    const config: TriadConfig = {
      ...loadConfig({
        TRIAD_PREFIX: prefix,
        OPENAI_BASE_URL: `${model.url}/v1`,
        TRIAD_EMBEDDING_MODEL: MODEL,
        TRIAD_EMBEDDING_DIMENSIONS: String(DIMENSIONS),
        TRIAD_MEMORY_MAX_ENTRIES: String(entries * 2),
      }),
    };
    const quiet = { warn: () => {}, log: () => {} };
    const replica = () => new RedisSemanticMemory(redis, config, new Embedder(config), { logger: quiet });

    log(`memory store: writing ${entries} entries of ${DIMENSIONS} dims into Redis`);
    const usedBefore = await redisUsedMemory(redis);
    const store = new MemoryStore(redis, prefix);
    const gen = clusteredVectors({ dimensions: DIMENSIONS, seed: 5 });
    const now = Date.now();
    const fillStarted = performance.now();
    for (let i = 0; i < entries; i += 500) {
      await Promise.all(
        Array.from({ length: Math.min(500, entries - i) }, (_, j) =>
          store.add(
            TENANT,
            {
              kind: (i + j) % 4 ? 'fact' : 'lesson',
              text: `Bench memory ${i + j}: an entry about subject ${(i + j) % 97} of about a sentence or two`,
              tags: [`t${(i + j) % 10}`],
              source: { origin: 'api', runId: null, stepId: null },
              untrusted: false,
              createdAt: now,
              expiresAt: now + 86_400_000,
              model: MODEL,
              vector: gen.next(),
            },
            entries * 2,
          ),
        ),
      );
    }
    const fillMs = performance.now() - fillStarted;
    const redisBytesPerEntry = ((await redisUsedMemory(redis)) - usedBefore) / entries;

    log('memory store: a replica loads the tenant on its first search');
    const a = replica();
    const loadStarted = performance.now();
    await a.search(TENANT, { query: 'subject 42', k: 10 });
    const loadMs = performance.now() - loadStarted;
    const footprint = a.footprint();

    log(`memory store: loaded in ${fmt(loadMs, 0)} ms; a second replica loads, then ${searches} searches and writes`);
    const b = replica();
    await b.search(TENANT, { query: 'warm up', k: 10 });
    // Searches while a graph is being built wait behind its slices: measured once both are complete.
    await Promise.all([a.warm(TENANT), b.warm(TENANT)]);
    const pings: number[] = [];
    for (let i = 0; i < searches; i++) {
      const t = performance.now();
      await redis.ping();
      pings.push(performance.now() - t);
    }
    const quiet1: number[] = [];
    const afterWrite: number[] = [];
    let seen = 0;
    for (let i = 0; i < searches; i++) {
      let t = performance.now();
      await a.search(TENANT, { query: `what about subject ${i % 97}`, k: 10 });
      quiet1.push(performance.now() - t);
      const { entry } = await b.write({
        tenant: TENANT,
        text: `A fresh fact number ${i} written by another replica ${Math.random()}`,
        kind: 'fact',
        tags: [],
        source: { origin: 'api', runId: null, stepId: null },
        untrusted: false,
      });
      t = performance.now();
      const found = await a.search(TENANT, { query: entry.text, k: 10 });
      afterWrite.push(performance.now() - t);
      if (found.matches[0]?.entry.id === entry.id) seen++;
    }
    const logCheck: number[] = [];
    for (let i = 0; i < searches; i++) {
      const t = performance.now();
      await store.changes(TENANT, '0-0', 0);
      logCheck.push(performance.now() - t);
    }
    quiet1.sort((x, y) => x - y);
    afterWrite.sort((x, y) => x - y);

    const figures = {
      memoryStoreFillPerSec: round(entries / (fillMs / 1000), 0),
      memoryRedisBytesPerEntry: round(redisBytesPerEntry, 0),
      memoryReplicaLoadMs: round(loadMs, 0),
      memoryProcessBytesPerEntry: round(footprint.bytes / Math.max(1, footprint.entries), 0),
      memoryStoreSearchP50Ms: round(median(quiet1), 2),
      memoryStoreSearchP95Ms: round(percentile(quiet1, 95), 2),
      memorySearchAfterWriteP50Ms: round(median(afterWrite), 2),
      memoryWriteSeenByReplica: round(seen / searches, 3),
      memoryLogCheckP50Ms: round(median(logCheck), 3),
      memoryRedisPingP50Ms: round(median(pings), 3),
    };
    const rows: Row[] = [
      { measure: 'memory store fill', value: `${fmt(figures.memoryStoreFillPerSec, 0)}/s`, note: `${entries} entries` },
      { measure: 'memory Redis bytes/entry', value: fmt(redisBytesPerEntry, 0), note: `${DIMENSIONS} dims` },
      { measure: 'memory replica load', value: `${fmt(loadMs, 0)} ms`, note: `${entries} entries, first search` },
      {
        measure: 'memory process bytes/entry',
        value: fmt(figures.memoryProcessBytesPerEntry, 0),
        note: 'index + filter fields',
      },
      {
        measure: 'memory search end to end',
        value: `p50 ${fmt(figures.memoryStoreSearchP50Ms, 2)} ms`,
        note: `p95 ${fmt(figures.memoryStoreSearchP95Ms, 2)} ms; embedding over HTTP + log check + index + top-10 read`,
      },
      {
        measure: 'memory search after another write',
        value: `p50 ${fmt(figures.memorySearchAfterWriteP50Ms, 2)} ms`,
        note: `found the other replica's write first in ${fmt(figures.memoryWriteSeenByReplica * 100, 1)}%`,
      },
      {
        measure: 'memory change-log check',
        value: `p50 ${fmt(figures.memoryLogCheckP50Ms, 3)} ms`,
        note: 'one round trip',
      },
    ];
    return { figures, rows };
  } finally {
    await stop();
  }
}
