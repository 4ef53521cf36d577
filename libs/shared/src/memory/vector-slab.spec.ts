import { describe, expect, it } from '@jest/globals';
import { clusteredVectors } from '@triad/testing';
import { VectorSlab } from './vector-slab.js';

/** Small chunks (5 slots of 8 floats) so that a few dozen entries span many of them. */
function slabWith(count: number): { slab: VectorSlab; vectors: Map<number, Float32Array> } {
  const slab = new VectorSlab(8, 40);
  const gen = clusteredVectors({ dimensions: 8, seed: 3, topics: 4, subtopics: 12 });
  const vectors = new Map<number, Float32Array>();
  for (let key = 1; key <= count; key++) {
    const v = gen.next();
    vectors.set(key, v);
    slab.put(key, v);
  }
  return { slab, vectors };
}

function referenceClosest(vectors: Map<number, Float32Array>, q: Float32Array, k: number) {
  return [...vectors]
    .map(([key, v]) => ({ key, score: v.reduce((s, x, i) => s + x * q[i], 0) }))
    .sort((a, b) => b.score - a.score)
    .slice(0, k);
}

describe('VectorSlab', () => {
  it('spreads entries over chunks and searches them all exactly', () => {
    const { slab, vectors } = slabWith(47);
    expect(slab.slotsPerChunk).toBe(5);
    expect(slab.count).toBe(47);
    const q = clusteredVectors({ dimensions: 8, seed: 4, topics: 4, subtopics: 12 }).next();
    for (const k of [1, 7, 47, 60]) {
      const found = slab.closest(q, k).map(({ slot, score }) => ({ key: slab.keyAt(slot), score }));
      const expected = referenceClosest(vectors, q, k);
      expect(found.map((h) => h.key)).toEqual(expected.map((h) => h.key));
      found.forEach((h, i) => {
        expect(h.score).toBeCloseTo(expected[i].score, 5);
      });
    }
  });

  it('moves the last entry into a removed one’s slot, across chunks, and keeps every vector with its key', () => {
    const { slab, vectors } = slabWith(23);
    for (const key of [3, 23, 11, 1, 12]) {
      expect(slab.remove(key)).toBe(true);
      vectors.delete(key);
    }
    expect(slab.remove(3)).toBe(false);
    expect(slab.count).toBe(18);
    for (const [key, v] of vectors) {
      const slot = slab.slotOf(key) as number;
      expect(slot).toBeLessThan(18);
      expect(slab.keyAt(slot)).toBe(key);
      expect(Array.from(slab.vector(slot))).toEqual(Array.from(v));
    }
    // Empty it, then fill it again.
    for (const key of vectors.keys()) slab.remove(key);
    expect(slab.count).toBe(0);
    const again = slabWith(12).vectors;
    for (const [key, v] of again) slab.put(key, v);
    expect(slab.count).toBe(12);
    const q = again.get(5) as Float32Array;
    expect(slab.keyAt(slab.closest(q, 1)[0].slot)).toBe(5);
  });

  it('searches just the given slots', () => {
    const { slab, vectors } = slabWith(30);
    const q = vectors.get(9) as Float32Array;
    const among = [2, 17, 29].map((key) => slab.slotOf(key) as number);
    const found = slab.closestAmong(q, 2, among).map((h) => slab.keyAt(h.slot));
    const subset = new Map([2, 17, 29].map((key) => [key, vectors.get(key) as Float32Array]));
    expect(found).toEqual(referenceClosest(subset, q, 2).map((h) => h.key));
    expect(slab.closestAmong(q, 2, [])).toEqual([]);
  });

  it('counts the bytes it holds', () => {
    const { slab } = slabWith(47);
    expect(slab.bytes()).toBeGreaterThanOrEqual(47 * 8 * 4);
  });
});
