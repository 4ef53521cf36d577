/**
 * Deterministic vectors shaped like text embeddings rather than uniform noise: every vector leans on one shared
 * direction (embeddings are anisotropic), belongs to a topic and to a subtopic of it, plus its own noise. Nearest
 * neighbours are then mostly in the same subtopic, with near ties between them, which is what makes approximate
 * search hard in practice (uniform random vectors in many dimensions are all nearly equidistant).
 */
export interface ClusteredVectorsOptions {
  dimensions: number;
  /** Same seed, same vectors. Default 1. */
  seed?: number;
  /** Default 100. */
  topics?: number;
  /** Subtopics in all, each under a random topic. Default 2000. */
  subtopics?: number;
}

export interface ClusteredVectors {
  /** A new vector (unit length). */
  next(): Float32Array;
  /** `count` new vectors, one after the other in one array. */
  many(count: number): Float32Array;
}

export function clusteredVectors(options: ClusteredVectorsOptions): ClusteredVectors {
  const { dimensions: d, seed = 1, topics = 100, subtopics = 2000 } = options;
  const random = mulberry32(seed);
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const direction = () => unit(Float32Array.from({ length: d }, gaussian));
  const shared = direction();
  const topicCentres = Array.from({ length: topics }, direction);
  const subtopicCentres = Array.from({ length: subtopics }, () => ({
    topic: topicCentres[Math.floor(random() * topics)],
    centre: direction(),
  }));
  const next = () => {
    const { topic, centre } = subtopicCentres[Math.floor(random() * subtopics)];
    const noise = direction();
    const v = new Float32Array(d);
    for (let i = 0; i < d; i++) v[i] = 0.5 * shared[i] + 0.8 * topic[i] + 0.7 * centre[i] + 0.6 * noise[i];
    return unit(v);
  };
  return {
    next,
    many(count) {
      const out = new Float32Array(count * d);
      for (let i = 0; i < count; i++) out.set(next(), i * d);
      return out;
    },
  };
}

function unit(v: Float32Array): Float32Array {
  let norm = 0;
  for (const x of v) norm += x * x;
  norm = Math.sqrt(norm);
  for (let i = 0; i < v.length; i++) v[i] /= norm;
  return v;
}

/** A small seeded PRNG (mulberry32): the same seed gives the same sequence, so a run can be repeated. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
