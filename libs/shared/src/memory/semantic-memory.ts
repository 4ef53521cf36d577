import type {
  MemoryEntry,
  MemoryKind,
  MemoryMatch,
  MemorySearchInput,
  MemorySource,
  MemoryWrite,
} from '@triad/contracts';

/**
 * Long-term semantic memory of a tenant: facts and lessons, found by meaning, shared by every replica.
 *
 * Where things live:
 * - Redis is the truth: each entry (text, kind, tags, source, trust, times, its embedding) and the tenant's indexes
 *   (by creation, by expiry, by source run), written and removed by scripts that also append to the tenant's change
 *   log. Every replica sees a write at once and nothing is lost when a process restarts.
 * - Each process that searches a tenant keeps an in-memory vector index of that tenant (usearch: HNSW, SIMD exact
 *   search), loaded from Redis on first use and brought up to date from the change log before every search, so a
 *   replica finds what another replica wrote a moment ago.
 * - Embeddings come from the configured OpenAI-compatible server through the `openai` client.
 */
export interface NewMemory extends Omit<MemoryWrite, 'ttlMs'> {
  tenant: string;
  source: MemorySource;
  untrusted: boolean;
  /** Keep it at most this long (capped by TRIAD_MEMORY_RETENTION). */
  ttlMs?: number;
}

export interface MemoryWriteResult {
  entry: MemoryEntry;
  /** True when a near-identical entry of the same kind existed: that one was refreshed and is returned instead. */
  duplicate: boolean;
  /** Tokens the embedding used. */
  tokens: number;
}

export interface MemorySearchResult {
  matches: MemoryMatch[];
  /** Tokens the query's embedding used. */
  tokens: number;
}

export interface MemoryListQuery {
  kind?: MemoryKind;
  tags?: string[];
  sourceRunId?: string;
  /** Newest first; `cursor` is the `nextCursor` of the previous page. */
  limit: number;
  cursor?: string;
}

export interface MemoryPage {
  entries: MemoryEntry[];
  nextCursor: string | null;
}

export interface SemanticMemory {
  /** Embeds and stores one entry (evicting the tenant's oldest past its cap). */
  write(entry: NewMemory): Promise<MemoryWriteResult>;
  /** Embeds the texts in one request and stores each entry (as write). */
  writeMany(entries: NewMemory[]): Promise<MemoryWriteResult[]>;
  /** The k entries of the tenant closest in meaning to the query, that pass the filters, closest first. */
  search(tenant: string, query: MemorySearchInput): Promise<MemorySearchResult>;
  list(tenant: string, query: MemoryListQuery): Promise<MemoryPage>;
  get(tenant: string, id: string): Promise<MemoryEntry | null>;
  /** Removes one entry; false when the tenant has none with this id. */
  delete(tenant: string, id: string): Promise<boolean>;
  /** Removes every entry the run wrote (its lessons and its memorize calls); returns how many. */
  deleteBySourceRun(tenant: string, runId: string): Promise<number>;
  /** Removes entries past their expiry, over every tenant; returns how many. */
  sweepExpired(now?: number): Promise<number>;
}
