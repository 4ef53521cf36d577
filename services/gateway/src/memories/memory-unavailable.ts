import { TriadError } from '@triad/shared';
import { APIError } from 'openai';
import { ApiException } from '../http/api-exception.js';

/**
 * Runs a call of the semantic memory; the embeddings server failing (down, refusing, answering nonsense) becomes a
 * 503 answer that says so. The memory embeds before it writes anything, so such a failure has stored nothing.
 */
export async function unlessEmbeddingsFail<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof APIError || (err instanceof TriadError && EMBEDDING_FAULTS.has(err.code))) {
      throw new ApiException(
        'service_unavailable',
        `the embeddings server did not answer usefully (${(err as Error).message.split('\n')[0]}); nothing was stored: try again later`,
      );
    }
    throw err;
  }
}

const EMBEDDING_FAULTS = new Set<string>(['model_error', 'bad_model_reply']);
