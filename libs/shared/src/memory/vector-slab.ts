import usearch from 'usearch';

const { exactSearch } = usearch;

/** A slot's similarity to a query: the dot product of unit vectors, i.e. their cosine. */
export interface SlotHit {
  slot: number;
  score: number;
}

/** Floats per chunk (16 MiB): a chunk is the unit of growth, so growing never copies more than one chunk. */
export const SLAB_CHUNK_FLOATS = 4 * 1024 * 1024;
/** Bytes V8 spends per entry of a Map<number, number> (hash table, entry, load factor), roughly. */
const MAP_ENTRY_BYTES = 40;

/**
 * The exact vectors of a VectorIndex: unit vectors of `dimensions` floats, one slot per key, slots 0..count-1 dense
 * (removal moves the last slot into the hole). Stored in chunks of Float32Array so that growing a large index never
 * copies all of it (the first chunk starts small and doubles up to the chunk size, so a small tenant holds little);
 * exact search runs usearch's SIMD `exactSearch` over each chunk and merges.
 */
export class VectorSlab {
  readonly slotsPerChunk: number;
  private readonly chunks: Float32Array[];
  private slotKeys = new Float64Array(16);
  private readonly slots = new Map<number, number>();
  private live = 0;

  constructor(
    readonly dimensions: number,
    chunkFloats = SLAB_CHUNK_FLOATS,
  ) {
    this.slotsPerChunk = Math.max(1, Math.floor(chunkFloats / dimensions));
    this.chunks = [new Float32Array(Math.min(16, this.slotsPerChunk) * dimensions)];
  }

  get count(): number {
    return this.live;
  }

  slotOf(key: number): number | undefined {
    return this.slots.get(key);
  }

  keyAt(slot: number): number {
    return this.slotKeys[slot];
  }

  vector(slot: number): Float32Array {
    const d = this.dimensions;
    const offset = (slot % this.slotsPerChunk) * d;
    return this.chunks[Math.floor(slot / this.slotsPerChunk)].subarray(offset, offset + d);
  }

  /** Stores the key's unit vector (replacing the one it had); its slot. */
  put(key: number, unit: Float32Array): number {
    let slot = this.slots.get(key);
    if (slot === undefined) {
      slot = this.live;
      this.ensureSlot(slot);
      this.live++;
      this.slots.set(key, slot);
      this.slotKeys[slot] = key;
    }
    this.vector(slot).set(unit);
    return slot;
  }

  /** Removes the key (the last slot moves into its place); false when it had none. */
  remove(key: number): boolean {
    const slot = this.slots.get(key);
    if (slot === undefined) return false;
    const last = this.live - 1;
    if (slot !== last) {
      const lastKey = this.slotKeys[last];
      this.vector(slot).set(this.vector(last));
      this.slotKeys[slot] = lastKey;
      this.slots.set(lastKey, slot);
    }
    this.slots.delete(key);
    this.live = last;
    // Let an emptied trailing chunk go (never the first).
    const chunksNeeded = Math.max(1, Math.ceil(this.live / this.slotsPerChunk));
    if (this.chunks.length > chunksNeeded + 1) this.chunks.length = chunksNeeded + 1;
    return true;
  }

  dot(q: Float32Array, slot: number): number {
    const v = this.vector(slot);
    let sum = 0;
    for (let i = 0; i < v.length; i++) sum += q[i] * v[i];
    return sum;
  }

  /** The k slots closest to the unit query, best first (exact). */
  closest(q: Float32Array, k: number): SlotHit[] {
    const d = this.dimensions;
    const hits: SlotHit[] = [];
    for (let c = 0; c * this.slotsPerChunk < this.live; c++) {
      const first = c * this.slotsPerChunk;
      const inChunk = Math.min(this.slotsPerChunk, this.live - first);
      const { keys, distances } = exactSearch(
        this.chunks[c].subarray(0, inChunk * d),
        q,
        d,
        Math.min(k, inChunk),
        'ip' as never,
        1,
      );
      for (let i = 0; i < keys.length; i++) hits.push({ slot: first + Number(keys[i]), score: 1 - distances[i] });
    }
    return hits.length > k ? hits.sort(byScore).slice(0, k) : hits.sort(byScore);
  }

  /** The k of the given slots closest to the unit query, best first (exact). */
  closestAmong(q: Float32Array, k: number, slots: number[]): SlotHit[] {
    if (slots.length === 0) return [];
    const d = this.dimensions;
    const gathered = new Float32Array(slots.length * d);
    for (let i = 0; i < slots.length; i++) gathered.set(this.vector(slots[i]), i * d);
    const { keys, distances } = exactSearch(gathered, q, d, Math.min(k, slots.length), 'ip' as never, 1);
    return Array.from(keys, (at, i) => ({ slot: slots[Number(at)], score: 1 - distances[i] }));
  }

  /** The bytes held: the chunks, the slot -> key table and the key -> slot map. */
  bytes(): number {
    let bytes = this.slotKeys.byteLength + this.slots.size * MAP_ENTRY_BYTES;
    for (const chunk of this.chunks) bytes += chunk.byteLength;
    return bytes;
  }

  private ensureSlot(slot: number): void {
    if (slot === this.slotKeys.length) {
      const slotKeys = new Float64Array(this.slotKeys.length * 2);
      slotKeys.set(this.slotKeys);
      this.slotKeys = slotKeys;
    }
    const c = Math.floor(slot / this.slotsPerChunk);
    const d = this.dimensions;
    if (c === this.chunks.length) {
      this.chunks.push(new Float32Array(this.slotsPerChunk * d));
    } else if ((slot % this.slotsPerChunk) * d === this.chunks[c].length) {
      // Only the first chunk grows (doubling, up to the chunk size); later ones are allocated whole.
      const grown = new Float32Array(Math.min(this.slotsPerChunk, (this.chunks[c].length / d) * 2) * d);
      grown.set(this.chunks[c]);
      this.chunks[c] = grown;
    }
  }
}

const byScore = (a: SlotHit, b: SlotHit) => b.score - a.score;
