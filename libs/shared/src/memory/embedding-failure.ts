import { APIError } from 'openai';
import { TriadError } from '../errors/triad-error.js';

/**
 * Whether an error of the semantic memory is the embeddings server failing (unreachable, refusing, answering
 * nonsense), as opposed to a fault of the memory itself: callers answer it as "try again later".
 */
export function isEmbeddingFailure(err: unknown): boolean {
  return err instanceof APIError || (err instanceof TriadError && EMBEDDING_FAULTS.has(err.code));
}

const EMBEDDING_FAULTS = new Set<string>(['model_error', 'bad_model_reply']);
