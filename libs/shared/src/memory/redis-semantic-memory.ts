import { Logger } from '@nestjs/common';
import {
  type MemoryEntry,
  MemoryId,
  type MemoryKind,
  type MemoryMatch,
  MemorySearch,
  type MemorySearchInput,
  MemorySource,
  MemoryWrite,
  TenantId,
} from '@triad/contracts';
import { type TriadConfig, tenantLimits } from '../config/triad-config.js';
import type { RedisClient } from '../queue/redis-connection.js';
import type { Embedder } from './embedder.js';
import { type IndexedRecord, idNumber, MEMORY_BATCH, MemoryStore } from './memory-store.js';
import type {
  MemoryListQuery,
  MemoryPage,
  MemorySearchResult,
  MemoryWriteResult,
  NewMemory,
  SemanticMemory,
} from './semantic-memory.js';
import { VectorIndex, type VectorIndexOptions } from './vector-index.js';

/**
 * A write whose embedding is at least this close (cosine) to an entry of the same tenant and kind refreshes that entry
 * instead of adding one: the hashing vectorizer of the scripted model and real embedding models alike put rephrasings
 * of one sentence above it, and different facts below it.
 */
export const DUPLICATE_SIMILARITY = 0.95;
/** Tenants whose vector index a process keeps at most (the least recently searched is forgotten first). */
export const DEFAULT_MAX_TENANTS = 64;
/**
 * Entries a process keeps indexed at most, over all tenants (about 1.6 KB each at 256 dimensions, so some 800 MB):
 * past it the least recently used tenants are forgotten (never the one in use).
 */
export const DEFAULT_MAX_INDEXED_ENTRIES = 500_000;
/** A tenant's vector index is forgotten after this long without a search or write in this process. */
export const DEFAULT_TENANT_IDLE_MS = 15 * 60_000;
/** Ids read per round trip while loading a tenant, and batches of their entries read at once. */
const LOAD_IDS_PER_READ = 10_000;
const LOADS_IN_FLIGHT = 4;
/** Changes read from a tenant's change log per round trip while catching up. */
const CHANGES_PER_READ = 1_000;
/** Bytes an entry's filter fields take beside the index, roughly (a Map entry, a small object, its tags array). */
const META_BYTES = 120;
/** Entries scanned at most by one list call with a filter before it returns a partial page and a cursor. */
const LIST_SCAN_LIMIT = 5_000;

export interface RedisSemanticMemoryOptions {
  /** Cosine similarity from which a write is a near-duplicate (default DUPLICATE_SIMILARITY). */
  duplicateSimilarity?: number;
  maxTenants?: number;
  maxIndexedEntries?: number;
  tenantIdleMs?: number;
  /** Changes a tenant's change log keeps (default MEMORY_LOG_LENGTH). */
  logLength?: number;
  /** Tuning of each tenant's vector index. */
  index?: Omit<VectorIndexOptions, 'dimensions'>;
  logger?: Pick<Logger, 'warn' | 'log'>;
}

/** What the filters of a search need of an entry, kept beside the vector index. */
interface EntryMeta {
  kind: MemoryKind;
  tags: string[];
  expiresAt: number;
}

/** This process's copy of one tenant's memory: its vector index, the entries' filter fields, its log cursor. */
class TenantIndex {
  readonly index: VectorIndex;
  readonly meta = new Map<number, EntryMeta>();
  /** Entries embedded by another model or with other dimensions than configured: never searched. */
  readonly skipped = new Set<number>();
  warned = false;
  loaded = false;
  /** The change log id this copy reflects everything up to, and how many changes the log had had by then. */
  cursor = '0-0';
  applied = 0;
  lastUsed = Date.now();
  /** The catch-up running (or done), and the one waiting to start after it, which new callers join. */
  running: Promise<void> = Promise.resolve();
  queued: Promise<void> | null = null;
  /** This process's writes of the tenant, one at a time (so two near-duplicates written here are seen as such). */
  writing: Promise<unknown> = Promise.resolve();

  constructor(
    readonly dims: number,
    options: Omit<VectorIndexOptions, 'dimensions'> = {},
  ) {
    this.index = new VectorIndex({ ...options, dimensions: dims });
  }
}

/**
 * SemanticMemory over Redis (the truth, MemoryStore) and an in-process vector index per tenant (VectorIndex).
 *
 * - A tenant's index is loaded from Redis on its first search or write in this process (ids by creation, then the
 *   entries' vectors and filter fields, MEMORY_BATCH at a time in pipelined reads), and before each later search it
 *   is brought up to date from the tenant's change log: one round trip when nothing changed, a second (one pipelined
 *   read) for the entries added since. A replica thus finds what another wrote a moment ago. When the log was trimmed
 *   past this copy's cursor (it has applied fewer changes than the log has dropped: XINFO's entries-added minus its
 *   length), or the log counts fewer changes than applied (the tenant's data was removed), the tenant is loaded
 *   again from scratch.
 * - Filters (kind, tags, expiry) are applied inside the index search from the fields kept beside it; the top k are
 *   read from Redis in one pipelined read (an entry removed meanwhile is left out).
 * - Entries embedded by another model or with other dimensions than configured are kept out of the index (a warning
 *   says how many, once per tenant and process): re-write them to make them searchable again.
 * - Tenants never meet: each has its own keys in Redis and its own index here.
 * - Bounded here: at most `maxTenants` tenants' indexes are kept, holding `maxIndexedEntries` entries at most
 *   together, each forgotten after `tenantIdleMs` without use (checked at each use; the least recently used goes
 *   first when room is needed, never the tenant in use).
 * - A write whose vector is within `duplicateSimilarity` of an entry of the same kind refreshes that entry (its
 *   expiry pushed, a hit counted) and returns it with `duplicate: true`; it keeps its own source and trust (so it
 *   goes with its own source run, not the writer's). This process's writes to a tenant are made one at a time; two
 *   replicas writing the same text at the same moment may both add it.
 */
export class RedisSemanticMemory implements SemanticMemory {
  readonly store: MemoryStore;
  private readonly tenants = new Map<string, TenantIndex>();
  private readonly duplicateSimilarity: number;
  private readonly maxTenants: number;
  private readonly maxIndexedEntries: number;
  private readonly idleMs: number;
  private readonly logger: Pick<Logger, 'warn' | 'log'>;

  constructor(
    redis: RedisClient,
    private readonly config: Pick<TriadConfig, 'prefix' | 'memory' | 'tenantLimits'>,
    private readonly embedder: Embedder,
    private readonly options: RedisSemanticMemoryOptions = {},
  ) {
    this.store = new MemoryStore(redis, config.prefix, { logLength: options.logLength });
    this.duplicateSimilarity = options.duplicateSimilarity ?? DUPLICATE_SIMILARITY;
    this.maxTenants = options.maxTenants ?? DEFAULT_MAX_TENANTS;
    this.maxIndexedEntries = options.maxIndexedEntries ?? DEFAULT_MAX_INDEXED_ENTRIES;
    this.idleMs = options.tenantIdleMs ?? DEFAULT_TENANT_IDLE_MS;
    this.logger = options.logger ?? new Logger('SemanticMemory');
  }

  async write(entry: NewMemory): Promise<MemoryWriteResult> {
    const [result] = await this.writeMany([entry]);
    return result;
  }

  async writeMany(entries: NewMemory[]): Promise<MemoryWriteResult[]> {
    const checked = entries.map(checkNew);
    if (!checked.length) return [];
    const embeddings = await this.embedder.embed(checked.map((e) => e.text));
    const shares = tokenShares(
      embeddings.tokens,
      checked.map((e) => e.text.length),
    );
    const results: MemoryWriteResult[] = [];
    for (const [i, entry] of checked.entries()) {
      const vector = embeddings.vectors[i];
      const t = this.tenantIndex(entry.tenant, embeddings.dimensions);
      const stored = await this.oneAtATime(t, () => this.storeOne(t, entry, vector, embeddings.model));
      results.push({ ...stored, tokens: shares[i] });
    }
    return results;
  }

  async search(tenant: string, query: MemorySearchInput): Promise<MemorySearchResult> {
    TenantId.parse(tenant);
    const q = MemorySearch.parse(query);
    const { vectors, dimensions, tokens } = await this.embedder.embed([q.query]);
    const t = await this.synced(tenant, dimensions);
    const now = Date.now();
    const filter = (key: number) => {
      const m = t.meta.get(key);
      return (
        m !== undefined &&
        m.expiresAt > now &&
        (q.kind === undefined || m.kind === q.kind) &&
        (q.tags === undefined || q.tags.every((tag) => m.tags.includes(tag)))
      );
    };
    const hits = t.index
      .search(vectors[0], q.k, filter)
      .filter((h) => q.minScore === undefined || h.score >= q.minScore);
    const entries = await this.store.entries(
      tenant,
      hits.map((h) => `m${h.key}`),
    );
    const matches: MemoryMatch[] = [];
    for (const [i, entry] of entries.entries()) if (entry) matches.push({ entry, score: hits[i].score });
    return { matches, tokens };
  }

  async list(tenant: string, query: MemoryListQuery): Promise<MemoryPage> {
    TenantId.parse(tenant);
    const limit = Math.max(1, Math.min(query.limit, 1_000));
    const before = query.cursor === undefined ? undefined : MemoryId.parse(query.cursor);
    const now = Date.now();
    const wanted = (e: MemoryEntry) =>
      e.expiresAt > now &&
      (query.kind === undefined || e.kind === query.kind) &&
      (query.tags === undefined || query.tags.every((tag) => e.tags.includes(tag)));
    const found: MemoryEntry[] = [];
    let scanned = 0;
    let last = before;
    if (query.sourceRunId !== undefined) {
      const ids = await this.store.idsOfRun(tenant, query.sourceRunId);
      const after = before ? ids.filter((id) => idNumber(id) < idNumber(before)) : ids;
      for (let i = 0; i < after.length && found.length < limit; i += MEMORY_BATCH) {
        const page = after.slice(i, i + MEMORY_BATCH);
        for (const [j, e] of (await this.store.entries(tenant, page)).entries()) {
          last = page[j];
          if (e && wanted(e)) found.push(e);
          if (found.length === limit) break;
        }
      }
      const more = last !== undefined && after.some((id) => idNumber(id) < idNumber(last as string));
      return { entries: found, nextCursor: more ? (last ?? null) : null };
    }
    for (;;) {
      const batch = Math.min(MEMORY_BATCH, Math.max(limit - found.length, 50));
      const ids = await this.store.idsNewestFirst(tenant, batch, last);
      const entries = await this.store.entries(tenant, ids);
      let i = 0;
      for (; i < ids.length && found.length < limit; i++) {
        last = ids[i];
        scanned++;
        const e = entries[i];
        if (e && wanted(e)) found.push(e);
      }
      if (i === ids.length && ids.length < batch) return { entries: found, nextCursor: null };
      if (found.length === limit || scanned >= LIST_SCAN_LIMIT) {
        const more = (await this.store.idsNewestFirst(tenant, 1, last)).length > 0;
        return { entries: found, nextCursor: more ? (last ?? null) : null };
      }
    }
  }

  async get(tenant: string, id: string): Promise<MemoryEntry | null> {
    if (!TenantId.safeParse(tenant).success || !MemoryId.safeParse(id).success) return null;
    const [entry] = await this.store.entries(tenant, [id]);
    // Past its expiry it is gone, whether or not the sweep has removed it yet.
    return entry && entry.expiresAt > Date.now() ? entry : null;
  }

  async delete(tenant: string, id: string): Promise<boolean> {
    if (!TenantId.safeParse(tenant).success || !MemoryId.safeParse(id).success) return false;
    const removed = (await this.store.delete(tenant, [id])) > 0;
    this.forgetLocally(tenant, [id]);
    return removed;
  }

  async deleteBySourceRun(tenant: string, runId: string): Promise<number> {
    TenantId.parse(tenant);
    return this.store.deleteBySourceRun(tenant, runId);
  }

  async sweepExpired(now = Date.now()): Promise<number> {
    let removed = 0;
    for (const tenant of await this.store.tenants()) {
      for (;;) {
        const n = await this.store.sweepBatch(tenant, now);
        removed += n;
        if (n < MEMORY_BATCH) break;
      }
    }
    return removed;
  }

  /**
   * Loads the tenant's index in this process (unless it is loaded) and resolves once its HNSW graph, if it needs one,
   * is complete: a process may warm its busiest tenants before it takes work. With TRIAD_EMBEDDING_DIMENSIONS 0 the
   * length is only known from a first embedding, so there is nothing to warm.
   */
  async warm(tenant: string): Promise<void> {
    TenantId.parse(tenant);
    const dims = this.config.memory.dimensions;
    if (dims <= 0) return;
    const t = await this.synced(tenant, dims);
    await t.index.whenIndexed();
  }

  /** How many tenants' indexes this process holds, and their entries and bytes (for figures and tests). */
  footprint(): { tenants: number; entries: number; bytes: number } {
    let entries = 0;
    let bytes = 0;
    for (const t of this.tenants.values()) {
      entries += t.index.size;
      bytes += t.index.memoryBytes() + t.meta.size * META_BYTES;
    }
    return { tenants: this.tenants.size, entries, bytes };
  }

  // --- writing ---

  private async storeOne(
    t: TenantIndex,
    entry: CheckedNew,
    vector: Float32Array,
    model: string,
  ): Promise<Omit<MemoryWriteResult, 'tokens'>> {
    const now = Date.now();
    const retention = this.config.memory.retentionMs;
    const expiresAt = now + Math.min(entry.ttlMs ?? retention, retention);
    await this.catchUp(entry.tenant, t);
    const [nearest] = t.index.search(vector, 1, (key) => {
      const m = t.meta.get(key);
      return m !== undefined && m.kind === entry.kind && m.expiresAt > now;
    });
    if (nearest && nearest.score >= this.duplicateSimilarity) {
      const id = `m${nearest.key}`;
      const refreshed = await this.store.refresh(entry.tenant, id, expiresAt);
      const [existing] = refreshed ? await this.store.entries(entry.tenant, [id]) : [null];
      if (existing) {
        const m = t.meta.get(nearest.key);
        if (m) m.expiresAt = existing.expiresAt;
        return { entry: existing, duplicate: true };
      }
    }
    const cap = tenantLimits(this.config, entry.tenant).memory?.maxEntries ?? this.config.memory.maxEntries;
    const fields = {
      kind: entry.kind,
      text: entry.text,
      tags: entry.tags,
      source: entry.source,
      untrusted: entry.untrusted,
      createdAt: now,
      expiresAt,
    };
    const { id, evicted } = await this.store.add(entry.tenant, { ...fields, model, vector }, cap);
    this.put(entry.tenant, t, {
      id,
      kind: entry.kind,
      tags: entry.tags,
      expiresAt,
      model,
      dims: vector.length,
      vector,
    });
    for (const old of evicted) this.remove(t, idNumber(old));
    const stored: MemoryEntry = { id, tenant: entry.tenant, ...fields };
    return { entry: stored, duplicate: false };
  }

  private oneAtATime<T>(t: TenantIndex, fn: () => Promise<T>): Promise<T> {
    const run = t.writing.then(fn, fn);
    t.writing = run.catch(() => {});
    return run;
  }

  // --- this process's copy of a tenant ---

  /** The tenant's index for vectors of `dims`, loaded and brought up to date. */
  private async synced(tenant: string, dims: number): Promise<TenantIndex> {
    const t = this.tenantIndex(tenant, dims);
    await this.catchUp(tenant, t);
    this.forgetIdle(); // the catch-up (a load) may have grown the entries held
    return t;
  }

  /** The tenant's index for vectors of `dims` (a new one, not loaded yet, when there is none), marked as used. */
  private tenantIndex(tenant: string, dims: number): TenantIndex {
    let t = this.tenants.get(tenant);
    // Another length than the copy's: the configuration changed; the entries of the new length are searched.
    if (t && t.dims !== dims) t = undefined;
    if (t) this.tenants.delete(tenant); // re-inserted below: the Map's order is the order of use
    t ??= new TenantIndex(dims, this.options.index);
    t.lastUsed = Date.now();
    this.tenants.set(tenant, t);
    this.forgetIdle();
    return t;
  }

  /** Brings the copy up to date; a caller arriving while a catch-up runs waits for the next, which starts after. */
  private catchUp(tenant: string, t: TenantIndex): Promise<void> {
    if (t.queued) return t.queued;
    const next = t.running.then(() => {
      t.queued = null;
      return this.follow(tenant, t);
    });
    t.queued = next;
    t.running = next.catch(() => {});
    return next;
  }

  private async follow(tenant: string, t: TenantIndex): Promise<void> {
    if (!t.loaded) {
      this.clear(t); // what a load that failed half-way left behind
      await this.load(tenant, t);
    }
    for (;;) {
      const { added, length, changes } = await this.store.changes(tenant, t.cursor, CHANGES_PER_READ);
      if (t.applied < added - length || added < t.applied) {
        // Changes after the cursor were trimmed away, or the log is gone or younger: start again from scratch.
        this.logger.log(`memory of tenant ${tenant}: change log moved past this replica's copy, reloading`);
        this.clear(t);
        await this.load(tenant, t);
        continue;
      }
      if (!changes.length) return;
      const addedIds = changes.filter((c) => c.op === 'add').map((c) => c.id);
      const records = new Map<string, IndexedRecord>();
      for (const r of await this.store.indexRecords(tenant, addedIds)) if (r) records.set(r.id, r);
      for (const c of changes) {
        const key = idNumber(c.id);
        if (c.op === 'add') {
          const r = records.get(c.id);
          if (r) this.put(tenant, t, r);
        } else if (c.op === 'del') {
          this.remove(t, key);
        } else {
          const m = t.meta.get(key);
          if (m) m.expiresAt = c.expiresAt;
        }
      }
      t.cursor = changes[changes.length - 1].at;
      t.applied += changes.length;
      if (changes.length < CHANGES_PER_READ) return;
    }
  }

  /** Reads every entry of the tenant; the cursor is where the log stood before, so later changes are applied after. */
  private async load(tenant: string, t: TenantIndex): Promise<void> {
    const { last, added } = await this.store.changes(tenant, '', 0);
    let after = 0;
    for (;;) {
      const ids = await this.store.idsByCreation(tenant, LOAD_IDS_PER_READ, after);
      // Read LOADS_IN_FLIGHT batches at once: the reads of one overlap the index's work on another.
      const batches: string[][] = [];
      for (let i = 0; i < ids.length; i += MEMORY_BATCH) batches.push(ids.slice(i, i + MEMORY_BATCH));
      for (let i = 0; i < batches.length; i += LOADS_IN_FLIGHT) {
        const reads = batches.slice(i, i + LOADS_IN_FLIGHT).map((b) => this.store.indexRecords(tenant, b));
        for (const read of reads) for (const r of await read) if (r) this.put(tenant, t, r);
      }
      if (ids.length < LOAD_IDS_PER_READ) break;
      after = idNumber(ids[ids.length - 1]);
    }
    t.cursor = last;
    t.applied = added;
    t.loaded = true;
  }

  private put(tenant: string, t: TenantIndex, r: IndexedRecord): void {
    const key = idNumber(r.id);
    if (r.model !== this.config.memory.embeddingModel || r.dims !== t.dims || r.vector.length !== t.dims) {
      this.remove(t, key);
      t.skipped.add(key);
      if (!t.warned) {
        t.warned = true;
        this.logger.warn(
          `memory of tenant ${tenant}: entry ${r.id} (and any like it) was embedded by ${r.model} with ${r.dims} dimensions, not ${this.config.memory.embeddingModel} with ${t.dims}: search skips such entries until they are written again`,
        );
      }
      return;
    }
    t.meta.set(key, { kind: r.kind, tags: r.tags, expiresAt: r.expiresAt });
    t.index.add(key, r.vector);
  }

  private remove(t: TenantIndex, key: number): void {
    t.meta.delete(key);
    t.skipped.delete(key);
    t.index.remove(key);
  }

  private clear(t: TenantIndex): void {
    for (const key of [...t.meta.keys()]) this.remove(t, key);
    t.skipped.clear();
    t.loaded = false;
    t.cursor = '0-0';
    t.applied = 0;
  }

  private forgetLocally(tenant: string, ids: string[]): void {
    const t = this.tenants.get(tenant);
    if (t) for (const id of ids) this.remove(t, idNumber(id));
  }

  /**
   * Drops the indexes of tenants idle past `tenantIdleMs`, and the least recently used while more than `maxTenants`
   * or `maxIndexedEntries` are held. The Map is in order of use: the tenant in use is last and always stays.
   */
  private forgetIdle(): void {
    const idleBefore = Date.now() - this.idleMs;
    let entries = 0;
    for (const t of this.tenants.values()) entries += t.index.size;
    for (const [tenant, t] of this.tenants) {
      if (this.tenants.size === 1) return;
      const over = this.tenants.size > this.maxTenants || entries > this.maxIndexedEntries;
      if (!over && t.lastUsed >= idleBefore) return;
      this.tenants.delete(tenant);
      entries -= t.index.size;
    }
  }
}

type CheckedNew = NewMemory & { kind: MemoryKind; tags: string[] };

/** A write checked at the door: tenant, text, kind, tags, source. */
function checkNew(entry: NewMemory): CheckedNew {
  const tenant = TenantId.parse(entry.tenant);
  const fields = MemoryWrite.omit({ ttlMs: true }).parse({ text: entry.text, kind: entry.kind, tags: entry.tags });
  const source = MemorySource.parse(entry.source);
  if (entry.ttlMs !== undefined && !(Number.isInteger(entry.ttlMs) && entry.ttlMs > 0)) {
    throw new Error(`memory ttlMs must be a positive integer, got ${entry.ttlMs}`);
  }
  return { ...entry, ...fields, tenant, source, untrusted: entry.untrusted === true };
}

/** The tokens of one embeddings request shared among its texts by length (the rest to the last). */
function tokenShares(tokens: number, lengths: number[]): number[] {
  const total = lengths.reduce((a, b) => a + b, 0) || 1;
  const shares = lengths.map((l) => Math.floor((tokens * l) / total));
  shares[shares.length - 1] += tokens - shares.reduce((a, b) => a + b, 0);
  return shares;
}
