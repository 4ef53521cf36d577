import { isEmbeddingFailure } from '@triad/shared';
import { ApiException } from '../http/api-exception.js';

/**
 * Runs a call of the semantic memory; the embeddings server failing (down, refusing, answering nonsense) becomes a
 * 503 answer that says so. The memory embeds before it writes anything, so such a failure has stored nothing.
 */
export async function unlessEmbeddingsFail<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (!isEmbeddingFailure(err)) throw err;
    const why = (err as Error).message.split('\n')[0];
    throw new ApiException(
      'service_unavailable',
      `the embeddings server did not answer usefully (${why}); nothing was stored: try again later`,
    );
  }
}
