import usearch from 'usearch';
import { type SlotHit, VectorSlab } from './vector-slab.js';

const { Index } = usearch;
type UsearchIndex = InstanceType<typeof Index>;

/** One match: `score` is the cosine similarity (-1..1, higher is closer). */
export interface VectorHit {
  key: number;
  score: number;
}

export interface VectorIndexOptions {
  /** Length of every vector. */
  dimensions: number;
  /**
   * At or below this many entries every search is exact (SIMD brute force) and no graph is built; above it an HNSW
   * graph is built in the background and used once complete. Default: as many entries as make 5 Mi floats (20 480
   * at 256 dimensions, 3 413 at 1536), which an exact search goes through in 1 to 2 ms on a loaded 2-core machine
   * (see docs/BENCHMARKS.md, "Semantic memory search").
   */
  exactBelow?: number;
  /** HNSW: neighbours per node (usearch's `connectivity`). Default 16. */
  connectivity?: number;
  /** HNSW: candidate list length while inserting (usearch's `expansion_add`). Default 64. */
  expansionAdd?: number;
  /**
   * HNSW: candidate list length while searching (usearch's `expansion_search`). Default 256: on clustered data it
   * raised recall@10 from 0.96 (at 128) to 0.99 for well under a millisecond more per search.
   */
  expansionSearch?: number;
  /**
   * HNSW: how the graph stores its copy of the vectors. Default `f16` (half the memory of `f32`; candidates are
   * re-scored against the exact `f32` vectors kept beside the graph, so scores stay exact).
   */
  quantization?: 'f32' | 'f16' | 'i8';
  /**
   * HNSW: candidates fetched per wanted result before re-scoring them exactly (and before a filter drops some).
   * Default 3 (with a filter passing a tenth of the entries, recall@10 0.98 where 2 gave 0.96).
   */
  overFetch?: number;
  /**
   * A filter that an estimated fraction of entries at or below this passes is searched exactly over just those
   * entries (the graph would have to be walked too far to find k of them). Default 0.02: at 100 000 entries of 256
   * dimensions a filter passing 1% took a median 9.9 ms through the graph and 0.9 ms exactly, one passing 10% 1.0 ms
   * through the graph and 14 ms exactly (2%: 2.1 and 1.3 ms).
   */
  selectiveBelow?: number;
  /** The graph is built in slices of about this many milliseconds, one per event-loop turn. Default 10. */
  buildSliceMs?: number;
}

/** Exact search while the slab holds at most this many floats (unless `exactBelow` says otherwise). */
const EXACT_FLOATS = 5 * 1024 * 1024;

const DEFAULTS = {
  connectivity: 16,
  expansionAdd: 64,
  expansionSearch: 256,
  quantization: 'f16' as const,
  overFetch: 3,
  selectiveBelow: 0.02,
  buildSliceMs: 10,
};

/** How many entries a filter's selectivity is estimated on. */
const FILTER_SAMPLE = 512;
/** Entries added since the graph was complete, up to this many, are searched exactly beside it. */
const PENDING_BESIDE_GRAPH = 1024;
/** Bytes V8 spends per entry of a Set<number> (hash table, entry, load factor), roughly. */
const SET_ENTRY_BYTES = 24;

/**
 * The in-process vector index of one tenant: keys are positive integers, vectors are compared by cosine similarity.
 *
 * - Vectors are normalised to unit length when added and kept in a VectorSlab (chunks of Float32Array, a slot per
 *   entry, swap-remove), so cosine is a dot product and an exact search is a SIMD pass of usearch's `exactSearch`.
 * - While the index is small (`exactBelow`) every search is exact. Above it an HNSW graph (usearch `Index`) is built
 *   in slices between event-loop turns; until it holds all but a few entries, searches stay exact (`whenIndexed()`
 *   resolves when it holds every one). Entries added later go into the graph in the background too, and meanwhile
 *   (up to 1024 of them) are searched exactly beside it.
 * - Graph candidates are re-scored against the exact vectors, so the scores are exact and a quantized graph (`f16`)
 *   loses nothing but a little recall.
 * - With a filter: a selective one (few entries pass, estimated on a sample) is searched exactly over just the
 *   entries that pass; otherwise the graph is asked for more candidates than wanted, filtered, and asked again for
 *   more while too few pass.
 */
export class VectorIndex {
  readonly dimensions: number;
  private readonly opts: Required<Omit<VectorIndexOptions, 'dimensions'>>;
  private readonly slab: VectorSlab;

  /** The HNSW graph, once the index outgrew `exactBelow`. */
  private graph: UsearchIndex | null = null;
  /** Set once the index outgrew `exactBelow`: from then on every entry goes into the graph. */
  private graphWanted = false;
  /** Keys in the slab not yet in the graph (insertion order). */
  private readonly pending = new Set<number>();
  private building: Promise<void> | null = null;
  private buildError: unknown = null;
  /** Reused buffers (fewer short-lived allocations while a large tenant loads): a normalised vector, a build batch. */
  private readonly scratch: Float32Array;
  private batchVectors = new Float32Array(0);

  constructor(options: VectorIndexOptions) {
    const { dimensions, ...rest } = options;
    if (!Number.isInteger(dimensions) || dimensions <= 0) {
      throw new Error(`VectorIndex: dimensions must be a positive integer, got ${dimensions}`);
    }
    this.dimensions = dimensions;
    const defined = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
    this.opts = { ...DEFAULTS, exactBelow: Math.max(1, Math.floor(EXACT_FLOATS / dimensions)), ...defined };
    if (!(this.opts.overFetch >= 1)) throw new Error('VectorIndex: overFetch must be at least 1');
    this.slab = new VectorSlab(dimensions);
    this.scratch = new Float32Array(dimensions);
  }

  get size(): number {
    return this.slab.count;
  }

  /** True when an HNSW graph holds every entry (searches without a selective filter then use it). */
  get indexed(): boolean {
    return this.graph !== null && this.pending.size === 0;
  }

  has(key: number): boolean {
    return this.slab.slotOf(key) !== undefined;
  }

  /** Adds the key's vector, replacing the one it had. */
  add(key: number, vector: Float32Array): void {
    checkKey(key);
    const unit = this.unit(vector, 'vector');
    if (this.has(key)) this.dropFromGraph(key);
    this.slab.put(key, unit);
    if (this.graphWanted) {
      this.pending.add(key);
      this.scheduleBuild();
    } else if (this.slab.count > this.opts.exactBelow) {
      // Outgrew exact search: every entry goes into a graph, built in the background.
      this.graphWanted = true;
      for (let s = 0; s < this.slab.count; s++) this.pending.add(this.slab.keyAt(s));
      this.scheduleBuild();
    }
  }

  /** Removes the key; false when it had no vector. */
  remove(key: number): boolean {
    if (!this.has(key)) return false;
    this.dropFromGraph(key);
    return this.slab.remove(key);
  }

  /**
   * The k keys closest to the query (that pass the filter), best first. Uses the HNSW graph when it is complete and
   * the filter (if any) is not selective; exact search otherwise.
   */
  search(query: Float32Array, k: number, filter?: (key: number) => boolean): VectorHit[] {
    const q = this.unit(query, 'query');
    checkK(k);
    if (this.slab.count === 0) return [];
    const graph = this.graph;
    if (!graph || this.pending.size > PENDING_BESIDE_GRAPH) return this.exact(q, k, filter);
    let rate = 1;
    if (filter) {
      rate = this.estimatePassing(filter) / this.slab.count;
      if (rate <= this.opts.selectiveBelow) return this.hits(this.slab.closestAmong(q, k, this.passingSlots(filter)));
    }
    return this.approximate(graph, q, k, filter, rate);
  }

  /** The exact k keys closest to the query (that pass the filter), best first: the reference for `search`. */
  searchExact(query: Float32Array, k: number, filter?: (key: number) => boolean): VectorHit[] {
    const q = this.unit(query, 'query');
    checkK(k);
    if (this.slab.count === 0) return [];
    return this.exact(q, k, filter);
  }

  /** Resolves when the HNSW graph holds every entry (at once when the index is small enough to need none). */
  async whenIndexed(): Promise<void> {
    while (this.building) await this.building;
    if (this.buildError) throw this.buildError;
  }

  /**
   * An estimate of the bytes this index holds: the exact vectors and key tables (allocated capacity), and usearch's
   * graph (its vectors at the chosen quantization, its neighbour lists, its key lookup) by usearch's own layout.
   */
  memoryBytes(): number {
    let bytes = this.slab.bytes() + this.pending.size * SET_ENTRY_BYTES;
    const graph = this.graph;
    if (graph) {
      const nodes = graph.size();
      const graphCapacity = graph.capacity();
      const m = graph.connectivity();
      const scalarBytes = { f32: 4, f16: 2, i8: 1 }[this.opts.quantization];
      // A node: key (8) + level (2) + base neighbours (2m slots of 4 bytes + a count of 4), plus on average
      // 1/(m-1) upper levels of m slots + a count; an allocator entry (8) each; its vector, plus the slack of the
      // arenas usearch allocates vectors from, which grow by doubling (RSS showed from none at 100 000 entries to
      // 30% at 30 000; 15% is counted).
      const perNode = 10 + (8 * m + 4) + (4 * m + 4) / (m - 1) + 16 + 1.15 * this.dimensions * scalarBytes;
      // Per capacity slot: the node pointer (8), the key->slot hash entry (16), its vector pointer (8).
      bytes += nodes * perNode + graphCapacity * 32;
    }
    return Math.round(bytes);
  }

  // --- exact search ---

  private exact(q: Float32Array, k: number, filter?: (key: number) => boolean): VectorHit[] {
    if (!filter) return this.hits(this.slab.closest(q, k));
    const count = this.slab.count;
    const passing = this.estimatePassing(filter);
    if (passing <= 0.5 * count) return this.hits(this.slab.closestAmong(q, k, this.passingSlots(filter)));
    // Most entries pass: search them all for more than k and widen while too few pass.
    let fetch = Math.min(count, Math.ceil((k / Math.max(passing / count, 1e-9)) * 1.5) + 8);
    for (;;) {
      const hits = this.hits(this.slab.closest(q, fetch)).filter((h) => filter(h.key));
      if (hits.length >= k || fetch >= count) return hits.slice(0, k);
      fetch = Math.min(count, fetch * 4);
    }
  }

  private hits(found: SlotHit[]): VectorHit[] {
    return found.map(({ slot, score }) => ({ key: this.slab.keyAt(slot), score }));
  }

  private passingSlots(filter: (key: number) => boolean): number[] {
    const slots: number[] = [];
    for (let slot = 0; slot < this.slab.count; slot++) if (filter(this.slab.keyAt(slot))) slots.push(slot);
    return slots;
  }

  /** How many entries pass the filter, estimated on a sample (counted exactly when the index is small). */
  private estimatePassing(filter: (key: number) => boolean): number {
    const n = this.slab.count;
    if (n <= FILTER_SAMPLE) return this.passingSlots(filter).length;
    const step = n / FILTER_SAMPLE;
    let passed = 0;
    for (let i = 0; i < FILTER_SAMPLE; i++) if (filter(this.slab.keyAt(Math.floor(i * step)))) passed++;
    return (passed / FILTER_SAMPLE) * n;
  }

  // --- approximate search ---

  private approximate(
    graph: UsearchIndex,
    q: Float32Array,
    k: number,
    filter: ((key: number) => boolean) | undefined,
    rate: number,
  ): VectorHit[] {
    const inGraph = graph.size();
    // Enough candidates that, at the estimated pass rate, about k * overFetch pass the filter.
    let fetch = Math.min(inGraph, Math.ceil((k * this.opts.overFetch) / rate));
    for (;;) {
      const { keys } = graph.search(q, Math.max(1, fetch), 1);
      const hits: VectorHit[] = [];
      for (let i = 0; i < keys.length; i++) {
        const key = Number(keys[i]);
        if (filter && !filter(key)) continue;
        const slot = this.slab.slotOf(key);
        if (slot === undefined) continue;
        hits.push({ key, score: this.slab.dot(q, slot) });
      }
      for (const key of this.pending) {
        if (filter && !filter(key)) continue;
        const slot = this.slab.slotOf(key);
        if (slot !== undefined) hits.push({ key, score: this.slab.dot(q, slot) });
      }
      const passed = hits.length;
      if (passed >= k || fetch >= inGraph || keys.length < fetch) {
        hits.sort((a, b) => b.score - a.score);
        return hits.slice(0, k);
      }
      // Too few passed the filter: ask the graph for more, in proportion to how many were dropped.
      const seen = Math.max(passed, 1) / Math.max(keys.length, 1);
      fetch = Math.min(inGraph, Math.max(fetch * 2, Math.ceil((k / seen) * 1.5)));
    }
  }

  // --- graph upkeep ---

  private dropFromGraph(key: number): void {
    if (this.pending.delete(key)) return;
    if (this.graph?.contains(BigInt(key))) this.graph.remove(BigInt(key));
  }

  private scheduleBuild(): void {
    if (this.building) return;
    this.building = this.build().finally(() => {
      this.building = null;
    });
  }

  /** Inserts pending keys into the graph in slices of about `buildSliceMs`, yielding to the event loop between. */
  private async build(): Promise<void> {
    try {
      let batch = 16;
      while (this.pending.size > 0) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (!this.graph) {
          this.graph = new Index({
            metric: 'cos' as never,
            dimensions: this.dimensions,
            connectivity: this.opts.connectivity,
            quantization: this.opts.quantization as never,
            expansion_add: this.opts.expansionAdd,
            expansion_search: this.opts.expansionSearch,
            multi: false,
          });
        }
        const graph = this.graph;
        const started = performance.now();
        while (this.pending.size > 0 && performance.now() - started < this.opts.buildSliceMs) {
          const keys: number[] = [];
          for (const key of this.pending) {
            keys.push(key);
            if (keys.length >= batch) break;
          }
          const d = this.dimensions;
          if (this.batchVectors.length < keys.length * d) this.batchVectors = new Float32Array(keys.length * d);
          const vectors = this.batchVectors.subarray(0, keys.length * d);
          for (let i = 0; i < keys.length; i++)
            vectors.set(this.slab.vector(this.slab.slotOf(keys[i]) as number), i * d);
          const t = performance.now();
          graph.add(
            BigUint64Array.from(keys, (key) => BigInt(key)),
            vectors,
            1,
          );
          for (const key of keys) this.pending.delete(key);
          // Size the next batch to about a quarter of a slice.
          const perKey = (performance.now() - t) / keys.length;
          batch = Math.max(1, Math.min(4096, Math.floor(this.opts.buildSliceMs / 4 / Math.max(perKey, 1e-3))));
        }
      }
      this.buildError = null;
    } catch (err) {
      this.buildError = err;
    }
  }

  // --- input checks ---

  /**
   * The vector scaled to unit length, in a scratch array that the next call reuses; a clear error when it is not a
   * finite, non-zero vector of `dimensions` numbers.
   */
  private unit(vector: Float32Array, what: string): Float32Array {
    if (!(vector instanceof Float32Array)) throw new TypeError(`VectorIndex: the ${what} must be a Float32Array`);
    if (vector.length !== this.dimensions) {
      throw new RangeError(
        `VectorIndex: the ${what} has ${vector.length} dimensions, this index has ${this.dimensions}`,
      );
    }
    let norm = 0;
    for (let i = 0; i < vector.length; i++) {
      const v = vector[i];
      if (!Number.isFinite(v)) throw new RangeError(`VectorIndex: the ${what} has a non-finite value at ${i}`);
      norm += v * v;
    }
    if (norm === 0) throw new RangeError(`VectorIndex: the ${what} is all zeros (it has no direction)`);
    const scale = 1 / Math.sqrt(norm);
    const unit = this.scratch;
    for (let i = 0; i < vector.length; i++) unit[i] = vector[i] * scale;
    return unit;
  }
}

function checkKey(key: number): void {
  if (!Number.isSafeInteger(key) || key <= 0)
    throw new RangeError(`VectorIndex: keys are positive integers, got ${key}`);
}

function checkK(k: number): void {
  if (!Number.isInteger(k) || k <= 0) throw new RangeError(`VectorIndex: k must be a positive integer, got ${k}`);
}
