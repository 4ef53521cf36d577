import { z } from 'zod';

/** The size of a vector when the request names none (`dimensions`). */
export const DEFAULT_EMBEDDING_DIMENSIONS = 256;
/** The most dimensions a request may ask for (OpenAI's largest model has 3072). */
export const MAX_EMBEDDING_DIMENSIONS = 4096;
/** The most inputs one request may carry (as OpenAI's endpoint). */
export const MAX_EMBEDDING_INPUTS = 2048;

// Only the fields the scripted server reads are checked; the rest of the body passes through.
export const EmbeddingsBody = z.looseObject({
  model: z.string().min(1),
  input: z.union([
    z.string().min(1, 'an input is an empty string'),
    z.array(z.string().min(1, 'an input is an empty string')).min(1).max(MAX_EMBEDDING_INPUTS),
  ]),
  dimensions: z.number().int().min(1).max(MAX_EMBEDDING_DIMENSIONS).nullable().optional(),
  encoding_format: z.enum(['float', 'base64']).nullable().optional(),
});
export type EmbeddingsBody = z.infer<typeof EmbeddingsBody>;

/**
 * A deterministic hashing vectorizer standing in for an embedding model: the lower-cased word unigrams and character
 * trigrams of a text are hashed (FNV-1a) into `dimensions` buckets with a sign taken from the hash, and the sum is
 * L2-normalised. Texts sharing words and spellings share buckets, so similar texts get similar vectors (cosine close
 * to 1) and unrelated ones nearly orthogonal vectors; the same text always gets the same vector.
 */
export function hashingEmbedding(text: string, dimensions: number): Float32Array {
  const v = new Float32Array(dimensions);
  const lower = text.toLowerCase();
  const add = (feature: string, weight: number) => {
    const h = fnv1a(feature);
    v[h % dimensions] += h & 0x8000_0000 ? -weight : weight;
  };
  const words = lower.split(/[^\p{L}\p{N}]+/u).filter(Boolean);
  for (const w of words) add(`w:${w}`, 1);
  const spaced = ` ${lower.replace(/\s+/g, ' ').trim()} `;
  for (let i = 0; i + 3 <= spaced.length; i++) add(`c:${spaced.slice(i, i + 3)}`, 0.5);
  let norm = 0;
  for (const x of v) norm += x * x;
  norm = Math.sqrt(norm);
  if (norm > 0) for (let i = 0; i < v.length; i++) v[i] /= norm;
  return v;
}

/** Roughly what a tokenizer would count: a token per 4 characters, at least one per input. */
export function approximateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

/** 32-bit FNV-1a of a string's UTF-16 code units. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The OpenAI-shaped reply to an embeddings request (`base64`: little-endian float32 bytes, as OpenAI sends them). */
export function embeddingsReply(body: EmbeddingsBody): { reply: unknown; inputs: string[]; dimensions: number } {
  const inputs = typeof body.input === 'string' ? [body.input] : body.input;
  const dimensions = body.dimensions ?? DEFAULT_EMBEDDING_DIMENSIONS;
  const tokens = inputs.reduce((n, text) => n + approximateTokens(text), 0);
  const data = inputs.map((text, index) => {
    const vector = hashingEmbedding(text, dimensions);
    const embedding =
      body.encoding_format === 'base64'
        ? Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString('base64')
        : Array.from(vector);
    return { object: 'embedding', index, embedding };
  });
  return {
    reply: { object: 'list', data, model: body.model, usage: { prompt_tokens: tokens, total_tokens: tokens } },
    inputs,
    dimensions,
  };
}
