import usearch from 'usearch';

const { Index, exactSearch } = usearch;
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
   * graph is built in the background and used once complete. Default 20 000: exact search over 20 000 entries of
   * 256 dimensions takes about 1 ms here, and a graph is then worth its build time and memory.
   */
  exactBelow?: number;
  /** HNSW: neighbours per node (usearch's `connectivity`). Default 16. */
  connectivity?: number;
  /** HNSW: candidate list length while inserting (usearch's `expansion_add`). Default 64. */
  expansionAdd?: number;
  /** HNSW: candidate list length while searching (usearch's `expansion_search`). Default 64. */
  expansionSearch?: number;
  /**
   * HNSW: how the graph stores its copy of the vectors. Default `f16` (half the memory of `f32`, same recall here:
   * candidates are re-scored against the exact `f32` vectors kept beside the graph).
   */
  quantization?: 'f32' | 'f16' | 'i8';
  /**
   * HNSW: candidates fetched per wanted result before re-scoring them exactly (and before a filter drops some).
   * Default 2.
   */
  overFetch?: number;
  /**
   * A filter that an estimated fraction of entries at or below this passes is searched exactly over just those
   * entries (the graph would have to be walked too far to find k of them). Default 0.02.
   */
  selectiveBelow?: number;
  /** The graph is built in slices of about this many milliseconds, one per event-loop turn. Default 10. */
  buildSliceMs?: number;
}

const DEFAULTS = {
  exactBelow: 20_000,
  connectivity: 16,
  expansionAdd: 64,
  expansionSearch: 64,
  quantization: 'f16' as const,
  overFetch: 2,
  selectiveBelow: 0.02,
  buildSliceMs: 10,
};

/** How many entries a filter's selectivity is estimated on. */
const FILTER_SAMPLE = 512;
/** Entries added since the graph was complete, up to this many, are searched exactly beside it. */
const PENDING_BESIDE_GRAPH = 1024;
/** Bytes V8 spends per entry of a Map<number, number> / Set<number> (hash table, entry, load factor), roughly. */
const MAP_ENTRY_BYTES = 40;

/**
 * The in-process vector index of one tenant: keys are positive integers, vectors are compared by cosine similarity.
 *
 * - Vectors are normalised to unit length when added and kept in one Float32Array slab (a slot per entry,
 *   swap-remove), so cosine is a dot product and an exact search is one SIMD pass of usearch's `exactSearch`.
 * - While the index is small (`exactBelow`) every search is exact. Above it an HNSW graph (usearch `Index`) is built
 *   in slices between event-loop turns; until it holds every entry, searches stay exact (`whenIndexed()` resolves
 *   when it is complete). Entries added later go into the graph in the background too, and meanwhile are searched
 *   exactly beside it.
 * - Graph candidates are re-scored against the exact vectors, so the scores are exact and a quantized graph (`f16`)
 *   loses nothing but a little recall.
 * - With a filter: a selective one (few entries pass, estimated on a sample) is searched exactly over just the
 *   entries that pass; otherwise the graph is asked for more candidates than wanted, filtered, and asked again for
 *   more while too few pass.
 */
export class VectorIndex {
  readonly dimensions: number;
  private readonly opts: Required<Omit<VectorIndexOptions, 'dimensions'>>;

  /** The unit vectors, slot after slot; `capacity` slots. */
  private slab: Float32Array;
  /** slot -> key. */
  private slotKeys: Float64Array;
  private readonly slots = new Map<number, number>();
  private count = 0;

  /** The HNSW graph, once the index outgrew `exactBelow`. */
  private graph: UsearchIndex | null = null;
  /** Set once the index outgrew `exactBelow`: from then on every entry goes into the graph. */
  private graphWanted = false;
  /** Keys in the slab not yet in the graph (insertion order). */
  private readonly pending = new Set<number>();
  private building: Promise<void> | null = null;
  private buildError: unknown = null;

  constructor(options: VectorIndexOptions) {
    const { dimensions, ...rest } = options;
    if (!Number.isInteger(dimensions) || dimensions <= 0) {
      throw new Error(`VectorIndex: dimensions must be a positive integer, got ${dimensions}`);
    }
    this.dimensions = dimensions;
    const defined = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
    this.opts = { ...DEFAULTS, ...defined };
    if (!(this.opts.overFetch >= 1)) throw new Error('VectorIndex: overFetch must be at least 1');
    this.slab = new Float32Array(16 * dimensions);
    this.slotKeys = new Float64Array(16);
  }

  get size(): number {
    return this.count;
  }

  /** True when an HNSW graph holds every entry (searches without a selective filter then use it). */
  get indexed(): boolean {
    return this.graph !== null && this.pending.size === 0;
  }

  has(key: number): boolean {
    return this.slots.has(key);
  }

  /** Adds the key's vector, replacing the one it had. */
  add(key: number, vector: Float32Array): void {
    checkKey(key);
    const unit = this.unit(vector, 'vector');
    let slot = this.slots.get(key);
    if (slot === undefined) {
      if (this.count === this.slotKeys.length) this.grow();
      slot = this.count++;
      this.slots.set(key, slot);
      this.slotKeys[slot] = key;
    } else {
      this.dropFromGraph(key);
    }
    this.slab.set(unit, slot * this.dimensions);
    if (this.graphWanted) {
      this.pending.add(key);
      this.scheduleBuild();
    } else if (this.count > this.opts.exactBelow) {
      // Outgrew exact search: every entry goes into a graph, built in the background.
      this.graphWanted = true;
      for (let s = 0; s < this.count; s++) this.pending.add(this.slotKeys[s]);
      this.scheduleBuild();
    }
  }

  /** Removes the key; false when it had no vector. */
  remove(key: number): boolean {
    const slot = this.slots.get(key);
    if (slot === undefined) return false;
    this.dropFromGraph(key);
    const last = this.count - 1;
    if (slot !== last) {
      const lastKey = this.slotKeys[last];
      this.slab.copyWithin(slot * this.dimensions, last * this.dimensions, (last + 1) * this.dimensions);
      this.slotKeys[slot] = lastKey;
      this.slots.set(lastKey, slot);
    }
    this.slots.delete(key);
    this.count = last;
    return true;
  }

  /**
   * The k keys closest to the query (that pass the filter), best first. Uses the HNSW graph when it is complete and
   * the filter (if any) is not selective; exact search otherwise.
   */
  search(query: Float32Array, k: number, filter?: (key: number) => boolean): VectorHit[] {
    const q = this.unit(query, 'query');
    checkK(k);
    if (this.count === 0) return [];
    const graph = this.graph;
    if (!graph || this.pending.size > PENDING_BESIDE_GRAPH) return this.exact(q, k, filter);
    if (filter) {
      const passing = this.estimatePassing(filter);
      if (passing <= this.opts.selectiveBelow * this.count) return this.exactOver(q, k, this.passingSlots(filter));
    }
    return this.approximate(graph, q, k, filter);
  }

  /** The exact k keys closest to the query (that pass the filter), best first: the reference for `search`. */
  searchExact(query: Float32Array, k: number, filter?: (key: number) => boolean): VectorHit[] {
    const q = this.unit(query, 'query');
    checkK(k);
    if (this.count === 0) return [];
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
    let bytes =
      this.slab.byteLength + this.slotKeys.byteLength + (this.slots.size + this.pending.size) * MAP_ENTRY_BYTES;
    const graph = this.graph;
    if (graph) {
      const nodes = graph.size();
      const graphCapacity = graph.capacity();
      const m = graph.connectivity();
      const scalarBytes = { f32: 4, f16: 2, i8: 1 }[this.opts.quantization];
      // A node: key (8) + level (2) + base neighbours (2m slots of 4 bytes + a count of 4), plus on average
      // 1/(m-1) upper levels of m slots + a count; its vector; an allocator entry (8) each.
      const perNode = 10 + (8 * m + 4) + (4 * m + 4) / (m - 1) + this.dimensions * scalarBytes + 16;
      // Per capacity slot: the node pointer (8), the key->slot hash entry (16), its vector pointer (8).
      bytes += nodes * perNode + graphCapacity * 32;
    }
    return Math.round(bytes);
  }

  // --- exact search ---

  private exact(q: Float32Array, k: number, filter?: (key: number) => boolean): VectorHit[] {
    if (!filter) return this.exactAll(q, k);
    const passing = this.estimatePassing(filter);
    if (passing <= 0.5 * this.count) return this.exactOver(q, k, this.passingSlots(filter));
    // Most entries pass: search the whole slab for more than k and widen while too few pass.
    let fetch = Math.min(this.count, Math.ceil((k / Math.max(passing / this.count, 1e-9)) * 1.5) + 8);
    for (;;) {
      const hits = this.exactAll(q, fetch).filter((h) => filter(h.key));
      if (hits.length >= k || fetch >= this.count) return hits.slice(0, k);
      fetch = Math.min(this.count, fetch * 4);
    }
  }

  /** Exact search over every entry. */
  private exactAll(q: Float32Array, k: number): VectorHit[] {
    const n = this.count;
    const want = Math.min(k, n);
    const dataset = this.slab.subarray(0, n * this.dimensions);
    const { keys, distances } = exactSearch(dataset, q, this.dimensions, want, 'ip' as never, 1);
    const hits: VectorHit[] = [];
    for (let i = 0; i < keys.length && hits.length < want; i++) {
      const slot = Number(keys[i]);
      if (slot >= n) continue;
      hits.push({ key: this.slotKeys[slot], score: 1 - distances[i] });
    }
    return hits;
  }

  /** Exact search over the given slots only. */
  private exactOver(q: Float32Array, k: number, slots: number[]): VectorHit[] {
    if (slots.length === 0) return [];
    const d = this.dimensions;
    const gathered = new Float32Array(slots.length * d);
    for (let i = 0; i < slots.length; i++) gathered.set(this.slab.subarray(slots[i] * d, (slots[i] + 1) * d), i * d);
    const want = Math.min(k, slots.length);
    const { keys, distances } = exactSearch(gathered, q, d, want, 'ip' as never, 1);
    const hits: VectorHit[] = [];
    for (let i = 0; i < keys.length && hits.length < want; i++) {
      const at = Number(keys[i]);
      if (at >= slots.length) continue;
      hits.push({ key: this.slotKeys[slots[at]], score: 1 - distances[i] });
    }
    return hits;
  }

  private passingSlots(filter: (key: number) => boolean): number[] {
    const slots: number[] = [];
    for (let slot = 0; slot < this.count; slot++) if (filter(this.slotKeys[slot])) slots.push(slot);
    return slots;
  }

  /** How many entries pass the filter, estimated on a sample (counted exactly when the index is small). */
  private estimatePassing(filter: (key: number) => boolean): number {
    const n = this.count;
    if (n <= FILTER_SAMPLE) return this.passingSlots(filter).length;
    const step = n / FILTER_SAMPLE;
    let passed = 0;
    for (let i = 0; i < FILTER_SAMPLE; i++) if (filter(this.slotKeys[Math.floor(i * step)])) passed++;
    return (passed / FILTER_SAMPLE) * n;
  }

  // --- approximate search ---

  private approximate(
    graph: UsearchIndex,
    q: Float32Array,
    k: number,
    filter: ((key: number) => boolean) | undefined,
  ): VectorHit[] {
    const inGraph = graph.size();
    let fetch = Math.min(inGraph, Math.ceil(k * this.opts.overFetch));
    for (;;) {
      const { keys } = graph.search(q, Math.max(1, fetch), 1);
      const hits: VectorHit[] = [];
      for (let i = 0; i < keys.length; i++) {
        const key = Number(keys[i]);
        if (filter && !filter(key)) continue;
        const slot = this.slots.get(key);
        if (slot === undefined) continue;
        hits.push({ key, score: this.dot(q, slot) });
      }
      for (const key of this.pending) {
        if (filter && !filter(key)) continue;
        const slot = this.slots.get(key);
        if (slot !== undefined) hits.push({ key, score: this.dot(q, slot) });
      }
      const passed = hits.length;
      if (passed >= k || fetch >= inGraph || keys.length < fetch) {
        hits.sort((a, b) => b.score - a.score);
        return hits.slice(0, k);
      }
      // Too few passed the filter: ask the graph for more, in proportion to how many were dropped.
      const rate = Math.max(passed, 1) / Math.max(keys.length, 1);
      fetch = Math.min(inGraph, Math.max(fetch * 2, Math.ceil((k / rate) * 1.5)));
    }
  }

  private dot(q: Float32Array, slot: number): number {
    const s = this.slab;
    const d = this.dimensions;
    const base = slot * d;
    let sum = 0;
    for (let i = 0; i < d; i++) sum += q[i] * s[base + i];
    return sum;
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
      let batch = 64;
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
          const vectors = new Float32Array(keys.length * d);
          for (let i = 0; i < keys.length; i++) {
            const slot = this.slots.get(keys[i]) as number;
            vectors.set(this.slab.subarray(slot * d, (slot + 1) * d), i * d);
          }
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

  private grow(): void {
    const capacity = this.slotKeys.length * 2;
    const slab = new Float32Array(capacity * this.dimensions);
    slab.set(this.slab);
    this.slab = slab;
    const slotKeys = new Float64Array(capacity);
    slotKeys.set(this.slotKeys);
    this.slotKeys = slotKeys;
  }

  /** The vector scaled to unit length; a clear error when it is not a finite vector of `dimensions` numbers. */
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
    const unit = new Float32Array(vector.length);
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
