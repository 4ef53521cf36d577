import { describe, expect, it } from '@jest/globals';
import { clusteredVectors } from '@triad/testing';
import { type VectorHit, VectorIndex } from './vector-index.js';

/** The plain reference: cosine similarity of every entry, best first. */
function reference(
  entries: Map<number, Float32Array>,
  query: Float32Array,
  k: number,
  filter?: (key: number) => boolean,
): VectorHit[] {
  const norm = (v: Float32Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  const hits: VectorHit[] = [];
  for (const [key, v] of entries) {
    if (filter && !filter(key)) continue;
    let dot = 0;
    for (let i = 0; i < v.length; i++) dot += v[i] * query[i];
    hits.push({ key, score: dot / (norm(v) * norm(query)) });
  }
  return hits.sort((a, b) => b.score - a.score).slice(0, k);
}

function expectSameHits(actual: VectorHit[], expected: VectorHit[]): void {
  expect(actual.map((h) => h.key)).toEqual(expected.map((h) => h.key));
  actual.forEach((h, i) => {
    expect(h.score).toBeCloseTo(expected[i].score, 5);
  });
}

/** Vectors of varied length (the index normalises them), keyed 1..count. */
function fill(index: VectorIndex, count: number, seed: number): Map<number, Float32Array> {
  const gen = clusteredVectors({ dimensions: index.dimensions, seed, topics: 10, subtopics: 60 });
  const entries = new Map<number, Float32Array>();
  for (let key = 1; key <= count; key++) {
    const v = gen.next().map((x: number) => x * (1 + (key % 5)));
    entries.set(key, v);
    index.add(key, v);
  }
  return entries;
}

function recallAt(k: number, approximate: VectorHit[][], exact: VectorHit[][]): number {
  let found = 0;
  let wanted = 0;
  approximate.forEach((hits, i) => {
    const truth = new Set(exact[i].map((h) => h.key));
    found += hits.filter((h) => truth.has(h.key)).length;
    wanted += Math.min(k, truth.size);
  });
  return found / wanted;
}

describe('VectorIndex', () => {
  describe('exact search (small index)', () => {
    const index = new VectorIndex({ dimensions: 32 });
    const entries = fill(index, 300, 1);
    const queries = clusteredVectors({ dimensions: 32, seed: 2, topics: 10, subtopics: 60 });

    it('finds what a plain cosine scan finds, with its scores, best first', () => {
      for (let i = 0; i < 20; i++) {
        const q = queries.next();
        const expected = reference(entries, q, 10);
        expectSameHits(index.searchExact(q, 10), expected);
        expectSameHits(index.search(q, 10), expected);
      }
    });

    it('returns every entry when k exceeds the size', () => {
      const small = new VectorIndex({ dimensions: 32 });
      const some = fill(small, 4, 3);
      const q = queries.next();
      expectSameHits(small.search(q, 10), reference(some, q, 10));
      expect(new VectorIndex({ dimensions: 32 }).search(q, 5)).toEqual([]);
    });

    it('applies a filter, even one that keeps only a few entries', () => {
      const odd = (key: number) => key % 2 === 1;
      const few = (key: number) => key === 7 || key === 150 || key === 299;
      for (let i = 0; i < 10; i++) {
        const q = queries.next();
        expectSameHits(index.search(q, 10, odd), reference(entries, q, 10, odd));
        expectSameHits(index.search(q, 10, few), reference(entries, q, 10, few));
        expect(index.search(q, 10, () => false)).toEqual([]);
      }
    });
  });

  describe('add, replace, remove', () => {
    it('replaces a key’s vector, removes keys and keeps the others intact', () => {
      const index = new VectorIndex({ dimensions: 16 });
      const entries = fill(index, 50, 4);
      expect(index.size).toBe(50);

      // Replace: the key now answers to its new vector, and only once.
      const fresh = clusteredVectors({ dimensions: 16, seed: 99 }).next();
      index.add(10, fresh);
      entries.set(10, fresh);
      expect(index.size).toBe(50);
      const [best] = index.search(fresh, 1);
      expect(best.key).toBe(10);
      expect(best.score).toBeCloseTo(1, 5);

      // Remove from the middle, the end and the start (swap-remove moves the last entry into the hole).
      for (const key of [25, 50, 1, 10]) {
        expect(index.remove(key)).toBe(true);
        entries.delete(key);
      }
      expect(index.remove(25)).toBe(false);
      expect(index.remove(1234)).toBe(false);
      expect(index.size).toBe(46);
      expect(index.has(25)).toBe(false);
      expect(index.has(49)).toBe(true);

      // Every remaining key still has its own vector.
      for (const [key, v] of entries) {
        const [hit] = index.searchExact(v, 1);
        expect(hit.key).toBe(key);
      }
      const q = clusteredVectors({ dimensions: 16, seed: 5 }).next();
      expectSameHits(index.search(q, 46), reference(entries, q, 46));
    });
  });

  describe('HNSW (above the exact threshold)', () => {
    const dimensions = 64;
    const index = new VectorIndex({ dimensions, exactBelow: 500 });
    const entries = fill(index, 3000, 6);
    const gen = clusteredVectors({ dimensions, seed: 7, topics: 10, subtopics: 60 });
    const queries = Array.from({ length: 100 }, () => gen.next());

    it('answers exactly while the graph is being built, then uses the graph', async () => {
      expect(index.indexed).toBe(false);
      for (const q of queries.slice(0, 5)) expectSameHits(index.search(q, 10), reference(entries, q, 10));
      await index.whenIndexed();
      expect(index.indexed).toBe(true);
    });

    it('finds at least 95% of the exact top 10, with exact scores', async () => {
      await index.whenIndexed();
      const approximate = queries.map((q) => index.search(q, 10));
      const exact = queries.map((q) => index.searchExact(q, 10));
      expect(recallAt(10, approximate, exact)).toBeGreaterThanOrEqual(0.95);
      for (const [i, hits] of approximate.entries()) {
        expect(hits).toHaveLength(10);
        for (const h of hits)
          expect(h.score).toBeCloseTo(
            reference(new Map([[h.key, entries.get(h.key) as Float32Array]]), queries[i], 1)[0].score,
            5,
          );
        for (let j = 1; j < hits.length; j++) expect(hits[j - 1].score).toBeGreaterThanOrEqual(hits[j].score);
      }
    });

    it('never returns a filtered-out key, and finds k when few keys pass', async () => {
      await index.whenIndexed();
      const tenth = (key: number) => key % 10 === 3;
      const handful = new Set([11, 222, 1333, 2444, 2999]);
      const few = (key: number) => handful.has(key);
      const approximate: VectorHit[][] = [];
      const exact: VectorHit[][] = [];
      for (const q of queries) {
        const hits = index.search(q, 10, tenth);
        expect(hits).toHaveLength(10);
        expect(hits.every((h) => tenth(h.key))).toBe(true);
        approximate.push(hits);
        exact.push(reference(entries, q, 10, tenth));
        // Only five keys pass: all five, in the exact order.
        expectSameHits(index.search(q, 10, few), reference(entries, q, 10, few));
      }
      expect(recallAt(10, approximate, exact)).toBeGreaterThanOrEqual(0.95);
    });

    it('finds entries added, replaced and removed after the graph was built', async () => {
      await index.whenIndexed();
      const later = clusteredVectors({ dimensions, seed: 8 });
      const added = later.next();
      index.add(5000, added);
      // Before the graph takes it in, it is searched beside the graph.
      expect(index.search(added, 1)[0].key).toBe(5000);
      await index.whenIndexed();
      expect(index.search(added, 1)[0].key).toBe(5000);

      const replaced = later.next();
      index.add(42, replaced);
      await index.whenIndexed();
      expect(index.search(replaced, 1)[0]).toEqual({ key: 42, score: expect.closeTo(1, 5) });
      const old = entries.get(42) as Float32Array;
      expect(index.search(old, 1)[0].score).toBeLessThan(0.99);
      entries.set(42, replaced);

      expect(index.remove(5000)).toBe(true);
      expect(index.search(added, 10).some((h) => h.key === 5000)).toBe(false);
      expect(index.size).toBe(3000);
    });

    it('keeps its recall when a third of the entries are removed and new ones added', async () => {
      await index.whenIndexed();
      const later = clusteredVectors({ dimensions, seed: 10, topics: 10, subtopics: 60 });
      for (let key = 3; key <= 3000; key += 3) {
        index.remove(key);
        entries.delete(key);
      }
      for (let key = 10_001; key <= 11_000; key++) {
        const v = later.next();
        index.add(key, v);
        entries.set(key, v);
      }
      await index.whenIndexed();
      expect(index.size).toBe(entries.size);
      const approximate = queries.map((q) => index.search(q, 10));
      const exact = queries.map((q) => reference(entries, q, 10));
      expect(recallAt(10, approximate, exact)).toBeGreaterThanOrEqual(0.95);
      expect(approximate.flat().every((h) => entries.has(h.key))).toBe(true);
    });

    it('reports memory that covers at least the vectors it keeps', async () => {
      await index.whenIndexed();
      expect(index.memoryBytes()).toBeGreaterThan(index.size * dimensions * 4);
      const small = new VectorIndex({ dimensions });
      fill(small, 100, 9);
      expect(small.memoryBytes()).toBeLessThan(index.memoryBytes());
    });
  });

  describe('bad input', () => {
    const index = new VectorIndex({ dimensions: 8 });
    const ok = Float32Array.from({ length: 8 }, (_, i) => i + 1);

    it('refuses a vector or query of the wrong length, with a clear error, and keeps what it had', () => {
      index.add(1, ok);
      expect(() => index.add(2, new Float32Array(7).fill(1))).toThrow(
        'VectorIndex: the vector has 7 dimensions, this index has 8',
      );
      expect(() => index.search(new Float32Array(9).fill(1), 1)).toThrow(
        'VectorIndex: the query has 9 dimensions, this index has 8',
      );
      expect(() => index.searchExact(new Float32Array(9).fill(1), 1)).toThrow(/query has 9 dimensions/);
      expect(index.size).toBe(1);
      expect(index.has(2)).toBe(false);
    });

    it('refuses non-finite values, zero vectors, bad keys and bad k', () => {
      const nan = Float32Array.from(ok);
      nan[3] = Number.NaN;
      expect(() => index.add(3, nan)).toThrow('VectorIndex: the vector has a non-finite value at 3');
      expect(() => index.add(3, new Float32Array(8))).toThrow(/all zeros/);
      expect(() => index.add(0, ok)).toThrow(/positive integers/);
      expect(() => index.add(1.5, ok)).toThrow(/positive integers/);
      expect(() => index.search(ok, 0)).toThrow(/k must be a positive integer/);
      expect(() => index.add(3, [1, 2, 3, 4, 5, 6, 7, 8] as unknown as Float32Array)).toThrow(/Float32Array/);
      expect(() => new VectorIndex({ dimensions: 0 })).toThrow(/dimensions must be a positive integer/);
      expect(index.size).toBe(1);
      expect(index.search(ok, 1)[0]).toEqual({ key: 1, score: expect.closeTo(1, 5) });
    });
  });
});
