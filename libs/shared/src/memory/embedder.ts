import type OpenAI from 'openai';
import type { TriadConfig } from '../config/triad-config.js';
import { BadModelReplyError } from '../errors/triad-error.js';
import { openAIClient, toModelError } from '../reasoning/reasoning-model.js';
import { traceEmbeddings } from '../telemetry/gen-ai-spans.js';

/** The most texts sent in one embeddings request; more are split over several requests. */
export const EMBEDDING_BATCH = 256;

export interface Embeddings {
  /** One vector per text, in the texts' order, each `dimensions` long. */
  vectors: Float32Array[];
  /** The model that made them, as configured (what an entry records, so a change of model is noticed). */
  model: string;
  dimensions: number;
  /** Tokens the server counted (usage.prompt_tokens). */
  tokens: number;
}

/**
 * Embeddings from the configured OpenAI-compatible server (`config.memory.embeddingModel`, `dimensions` sent when
 * above 0) through the `openai` client, with the chat model's base URL, key, timeout and retries. A reply that is
 * not one finite, non-zero vector per text, all of the expected length, is a BadModelReplyError: nothing is stored
 * from it.
 */
export class Embedder {
  private readonly client: OpenAI;
  readonly model: string;
  /** The configured length (0: the model's own, taken from its first vector). */
  readonly dimensions: number;

  constructor(config: Pick<TriadConfig, 'model' | 'memory'>, client?: OpenAI) {
    this.client = client ?? openAIClient(config.model);
    this.model = config.memory.embeddingModel;
    this.dimensions = config.memory.dimensions;
  }

  /** Traced as one `embeddings {model}` span per call. */
  embed(texts: string[], signal?: AbortSignal): Promise<Embeddings> {
    return traceEmbeddings('openai', this.model, texts.length, () => this.request(texts, signal));
  }

  private async request(texts: string[], signal?: AbortSignal): Promise<Embeddings> {
    const vectors: Float32Array[] = [];
    let tokens = 0;
    let dimensions = this.dimensions;
    for (let start = 0; start < texts.length; start += EMBEDDING_BATCH) {
      const batch = texts.slice(start, start + EMBEDDING_BATCH);
      let reply: OpenAI.CreateEmbeddingResponse;
      try {
        reply = await this.client.embeddings.create(
          { model: this.model, input: batch, ...(this.dimensions > 0 ? { dimensions: this.dimensions } : {}) },
          { signal },
        );
      } catch (err) {
        throw toModelError(err);
      }
      const got = checkedVectors(reply, batch.length, dimensions, this.model);
      dimensions = got[0]?.length ?? dimensions;
      vectors.push(...got);
      tokens += reply.usage?.prompt_tokens ?? 0;
    }
    return { vectors, model: this.model, dimensions, tokens };
  }
}

/** The reply's vectors in input order, or a BadModelReplyError saying what is wrong with them. */
function checkedVectors(
  reply: OpenAI.CreateEmbeddingResponse,
  count: number,
  dimensions: number,
  model: string,
): Float32Array[] {
  const bad = (why: string) => new BadModelReplyError(`embeddings model ${model}: ${why}`);
  const data = Array.isArray(reply?.data) ? reply.data : null;
  if (!data) throw bad('the reply has no data list');
  if (data.length !== count) throw bad(`${data.length} vectors for ${count} texts`);
  const out: Float32Array[] = new Array(count);
  let expected = dimensions;
  for (const [position, item] of data.entries()) {
    const index = typeof item?.index === 'number' ? item.index : position;
    if (!Number.isInteger(index) || index < 0 || index >= count || out[index]) {
      throw bad(`vector index ${String(item?.index)} is out of place`);
    }
    // The client decodes the base64 it asks for into a Float32Array; a server answering floats gives numbers.
    const raw = item.embedding as unknown;
    if (!(raw instanceof Float32Array) && !Array.isArray(raw)) throw bad(`vector ${index} is not a list of numbers`);
    // Checked before the copy: a Float32Array would turn a null (how JSON writes NaN) into 0 and a string into a number.
    if (Array.isArray(raw) && !raw.every((x) => typeof x === 'number' && Number.isFinite(x))) {
      throw bad(`vector ${index} holds a number that is not finite`);
    }
    const vector = Float32Array.from(raw as ArrayLike<number>);
    if (expected === 0) expected = vector.length;
    if (vector.length === 0 || vector.length !== expected) {
      throw bad(`vector ${index} has ${vector.length} numbers, expected ${expected}`);
    }
    let norm = 0;
    for (const x of vector) {
      if (!Number.isFinite(x)) throw bad(`vector ${index} holds a number that is not finite`);
      norm += x * x;
    }
    if (norm === 0) throw bad(`vector ${index} is all zeros`);
    out[index] = vector;
  }
  return out;
}
