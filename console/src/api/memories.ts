import {
  ListMemoriesResponse,
  type MemoryKind,
  type MemorySearchInput,
  SearchMemoriesResponse,
} from '@triad/contracts';
import { call } from './http.js';

export interface MemoriesFilter {
  kind?: MemoryKind;
  tags?: string[];
  sourceRunId?: string;
  cursor?: string;
  limit?: number;
}

/** The tenant's memories, newest first. */
export function listMemories(f: MemoriesFilter) {
  const params = new URLSearchParams({ limit: String(f.limit ?? 25) });
  if (f.kind) params.set('kind', f.kind);
  if (f.tags?.length) params.set('tags', f.tags.join(','));
  if (f.sourceRunId) params.set('sourceRunId', f.sourceRunId);
  if (f.cursor) params.set('cursor', f.cursor);
  return call('GET', `/v1/memories?${params}`, ListMemoriesResponse);
}

/** The tenant's memories closest in meaning to the query. */
export const searchMemories = (search: MemorySearchInput) =>
  call('POST', '/v1/memories/search', SearchMemoriesResponse, search);

export const deleteMemory = (id: string) => call('DELETE', `/v1/memories/${encodeURIComponent(id)}`, null);
