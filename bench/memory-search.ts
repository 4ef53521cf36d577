// Semantic memory search: one tenant's in-process vector index (libs/shared/src/memory/vector-index.ts) at 100 000
// entries of clustered vectors shaped like text embeddings (`clusteredVectors` in @triad/testing), at 256 dimensions
// (TRIAD_EMBEDDING_DIMENSIONS' default) and at 1536 (text-embedding-3-small's own size). For each: the time to build
// the index from scratch as a replica does on its first search of a tenant (adds, then the HNSW graph built in the
// background) and the longest the event loop was held meanwhile; recall@10 of the HNSW search against exact search,
// without and with a filter that a tenth of the entries pass; search times (p50, p95) of both paths; bytes per entry.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { VectorIndex } from '@triad/shared';
import { clusteredVectors } from '@triad/testing';
import { type BenchOptions, fmt, log, percentile, type Row, round } from './support.ts';

interface Case {
  dimensions: number;
  entries: number;
  /** Figure names get this suffix (none for the headline case). */
  suffix: string;
}

const QUERIES = 200;
const K = 10;

/** A full garbage collection, so that RSS before and after counts what is live (Node's documented way to reach it). */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

export async function measureMemorySearch(opts: BenchOptions) {
  const cases: Case[] = opts.quick
    ? [{ dimensions: 256, entries: 30_000, suffix: '' }]
    : [
        { dimensions: 256, entries: 100_000, suffix: '' },
        { dimensions: 1536, entries: 100_000, suffix: '_1536' },
      ];
  const figures: Record<string, number> = {};
  const rows: Row[] = [];
  for (const c of cases) {
    const result = await measureCase(c);
    Object.assign(figures, result.figures);
    rows.push(...result.rows);
  }
  return { figures, rows };
}

async function measureCase({ dimensions, entries, suffix }: Case) {
  const label = `${entries} entries x ${dimensions} dims`;
  log(`memory: generating ${label}`);
  const gen = clusteredVectors({ dimensions, seed: 17 });
  const data = gen.many(entries);
  const queries = Array.from({ length: QUERIES }, () => gen.next());
  const tenth = (key: number) => key % 10 === 7;

  // Build from scratch, as a replica does: every entry added (in batches, as they come from Redis), then the graph
  // built between event-loop turns.
  collectGarbage();
  const rssBefore = process.memoryUsage().rss;
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const started = performance.now();
  const index = new VectorIndex({ dimensions });
  for (let i = 0; i < entries; i++) {
    index.add(i + 1, data.subarray(i * dimensions, (i + 1) * dimensions));
    if (i % 1000 === 999) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  const addedMs = performance.now() - started;
  // What a search gets while the graph is being built (exact search), one search per event-loop turn.
  const whileBuilding: number[] = [];
  for (const q of queries.slice(0, 20)) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    const t = performance.now();
    index.search(q, K);
    whileBuilding.push(performance.now() - t);
  }
  const duringBuild = {
    p50: percentile(
      whileBuilding.sort((a, b) => a - b),
      50,
    ),
  };
  await index.whenIndexed();
  const buildMs = performance.now() - started;
  delay.disable();
  collectGarbage();
  const rssAfter = process.memoryUsage().rss;
  log(`memory: ${label}: built in ${(buildMs / 1000).toFixed(1)} s (adds ${(addedMs / 1000).toFixed(1)} s)`);

  const exact = timed(queries, (q) => index.searchExact(q, K));
  const approximate = timed(queries, (q) => index.search(q, K));
  const exactFiltered = timed(queries, (q) => index.searchExact(q, K, tenth));
  const approximateFiltered = timed(queries, (q) => index.search(q, K, tenth));
  const recall = recallAt10(approximate.hits, exact.hits);
  const recallFiltered = recallAt10(approximateFiltered.hits, exactFiltered.hits);
  const bytesPerEntry = index.memoryBytes() / entries;
  const rssPerEntry = (rssAfter - rssBefore) / entries;
  // The generated vectors stay live until here, so RSS growth counts the index only.
  if (data.length !== entries * dimensions) throw new Error('memory bench: data lost');

  const figures: Record<string, number> = {
    [`memoryEntries${suffix}`]: entries,
    [`memoryDimensions${suffix}`]: dimensions,
    [`memoryRecallAt10${suffix}`]: round(recall, 3),
    [`memoryFilteredRecallAt10${suffix}`]: round(recallFiltered, 3),
    [`memorySearchP50Ms${suffix}`]: round(approximate.p50, 3),
    [`memorySearchP95Ms${suffix}`]: round(approximate.p95, 3),
    [`memoryFilteredSearchP50Ms${suffix}`]: round(approximateFiltered.p50, 3),
    [`memoryExactSearchP50Ms${suffix}`]: round(exact.p50, 3),
    [`memoryExactSearchP95Ms${suffix}`]: round(exact.p95, 3),
    [`memorySearchWhileBuildingP50Ms${suffix}`]: round(duringBuild.p50, 3),
    [`memoryIndexBuildSec${suffix}`]: round(buildMs / 1000, 1),
    [`memoryBuildLoopDelayMaxMs${suffix}`]: round(delay.max / 1e6, 1),
    [`memoryBytesPerEntry${suffix}`]: Math.round(bytesPerEntry),
    [`memoryRssBytesPerEntry${suffix}`]: Math.round(rssPerEntry),
  };
  const rows: Row[] = [
    {
      measure: `memory recall@10, HNSW vs exact, ${label}`,
      value: fmt(recall, 3),
      note: `${QUERIES} queries; with a filter passing 1/10: ${fmt(recallFiltered, 3)} (target >= 0.95)`,
    },
    {
      measure: `memory search p50 / p95, HNSW, ${label}`,
      value: `${fmt(approximate.p50, 2)} / ${fmt(approximate.p95, 2)} ms`,
      note: `filtered 1/10: p50 ${fmt(approximateFiltered.p50, 2)} ms (target p50 <= 10)`,
    },
    {
      measure: `memory search p50 / p95, exact, ${label}`,
      value: `${fmt(exact.p50, 2)} / ${fmt(exact.p95, 2)} ms`,
      note: `what a search gets while the graph is built (p50 then: ${fmt(duringBuild.p50, 2)} ms)`,
    },
    {
      measure: `memory index build from scratch, ${label}`,
      value: `${fmt(buildMs / 1000, 1)} s`,
      note: `adds ${fmt(addedMs / 1000, 1)} s, then the graph; event loop held at most ${fmt(delay.max / 1e6, 0)} ms`,
    },
    {
      measure: `memory bytes per entry in process, ${label}`,
      value: `${Math.round(bytesPerEntry)}`,
      note: `index's estimate; the process's RSS grew ${Math.round(rssPerEntry)} per entry (after a full GC)`,
    },
  ];
  return { figures, rows };
}

function timed(queries: Float32Array[], search: (q: Float32Array) => { key: number }[]) {
  const ms: number[] = [];
  const hits: number[][] = [];
  for (const q of queries) {
    const t = performance.now();
    const found = search(q);
    ms.push(performance.now() - t);
    hits.push(found.map((h) => h.key));
  }
  ms.sort((a, b) => a - b);
  return { hits, p50: percentile(ms, 50), p95: percentile(ms, 95) };
}

function recallAt10(approximate: number[][], exact: number[][]): number {
  let found = 0;
  let wanted = 0;
  approximate.forEach((keys, i) => {
    const truth = new Set(exact[i]);
    found += keys.filter((key) => truth.has(key)).length;
    wanted += truth.size;
  });
  return found / wanted;
}
