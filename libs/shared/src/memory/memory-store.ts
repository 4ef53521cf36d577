import { MemoryEntry, MemoryId, MemoryKind, type MemorySource } from '@triad/contracts';
import { z } from 'zod';
import type { RedisClient } from '../queue/redis-connection.js';
import { type LuaCommand, luaCommand } from '../store/lua-scripts.js';
import { TriadKeys } from '../store/triad-keys.js';

/** Changes a tenant's change log keeps (about: trimmed by whole stream nodes); a replica further behind reloads. */
export const MEMORY_LOG_LENGTH = 10_000;
/** The most entries one write evicts to stay within the cap (a lowered cap is reached over the next writes). */
export const MAX_EVICTIONS_PER_WRITE = 1_000;
/** Entries a sweep, a delete-by-run or a load handles per Redis call. */
export const MEMORY_BATCH = 500;

/** What a write stores (the store assigns the id). */
export interface MemoryRecord {
  kind: MemoryKind;
  text: string;
  tags: string[];
  source: MemorySource;
  untrusted: boolean;
  createdAt: number;
  expiresAt: number;
  /** The embedding model and the vector it gave; the vector is stored as little-endian float32 bytes. */
  model: string;
  vector: Float32Array;
}

/** What a replica's vector index needs of an entry. */
export interface IndexedRecord {
  id: string;
  kind: MemoryKind;
  tags: string[];
  expiresAt: number;
  model: string;
  dims: number;
  vector: Float32Array;
}

/** One change of a tenant's memory, as its change log records it. */
export type MemoryChange =
  | { at: string; op: 'add'; id: string }
  | { at: string; op: 'del'; id: string }
  /** A refresh: the entry's new expiry. */
  | { at: string; op: 'exp'; id: string; expiresAt: number };

export interface MemoryChanges {
  /** The id of the log's newest change ('0-0' when there is no log). */
  last: string;
  /** How many changes were ever appended to the log (XINFO's entries-added; 0 when there is no log). */
  added: number;
  /** How many it still holds (trimming drops the oldest). */
  length: number;
  /** The changes after the cursor asked for, oldest first. */
  changes: MemoryChange[];
}

const ENTRY_FIELDS = ['text', 'meta', 'src', 'runId', 'expiresAt'] as const;
const INDEX_FIELDS = ['meta', 'expiresAt', 'vec'] as const;

/** An entry's `meta` field: what the vector index needs besides the vector. */
const EntryMeta = z.object({
  kind: MemoryKind,
  tags: z.array(z.string()),
  model: z.string(),
  dims: z.number().int(),
});
/** An entry's `src` field: where it came from. */
const EntrySource = z.object({
  origin: z.string(),
  stepId: z.string().nullable(),
  untrusted: z.boolean(),
  createdAt: z.number(),
});

/**
 * A tenant's semantic memory in Redis, the truth every replica shares (keys: TriadKeys.memory*, all hash-tagged by
 * tenant). An entry is a hash: `text`; `meta` (JSON: kind, tags, the embedding model and its dimensions); `src` (JSON:
 * origin, stepId, untrusted, createdAt); `runId` (its source run, '' for none), `expiresAt` and `hits`, which the
 * scripts read and change; `vec`, the vector as little-endian float32 bytes. The tenant's ids
 * are indexed by creation (score: the id's number, so insertion order) and by expiry, and by source run. Every change
 * is made by one Lua script (store/lua/memory-*.lua) that also appends it to the tenant's change log, a stream
 * trimmed to about MEMORY_LOG_LENGTH entries, which each replica's in-process index follows. (Redis does not count a
 * trim in the stream's max-deleted-entry-id, only an XDEL: a replica notices a trim by counting, see memory-changes.lua.)
 */
export class MemoryStore {
  readonly keys: TriadKeys;
  private readonly addScript: LuaCommand;
  private readonly deleteScript: LuaCommand;
  private readonly deleteRunScript: LuaCommand;
  private readonly sweepScript: LuaCommand;
  private readonly refreshScript: LuaCommand;
  private readonly changesScript: LuaCommand;
  private readonly logLength: string;

  constructor(
    private readonly redis: RedisClient,
    prefix: string,
    opts: { logLength?: number } = {},
  ) {
    this.keys = new TriadKeys(prefix);
    this.logLength = String(opts.logLength ?? MEMORY_LOG_LENGTH);
    this.addScript = luaCommand(redis, 'memory-add');
    this.deleteScript = luaCommand(redis, 'memory-delete');
    this.deleteRunScript = luaCommand(redis, 'memory-delete-run');
    this.sweepScript = luaCommand(redis, 'memory-sweep');
    this.refreshScript = luaCommand(redis, 'memory-refresh');
    this.changesScript = luaCommand(redis, 'memory-changes');
  }

  /** Stores a new entry and evicts the tenant's oldest past `cap`, in one script. */
  async add(tenant: string, record: MemoryRecord, cap: number): Promise<{ id: string; evicted: string[] }> {
    const k = this.keys;
    // Outside the script: the set of tenants is in a slot of its own (a Redis Cluster script keeps to one slot).
    await this.redis.sadd(k.memoryTenants(), tenant);
    const vec = Buffer.from(record.vector.buffer, record.vector.byteOffset, record.vector.byteLength);
    // Few fields: a hash this size is a hashtable, where each field costs about 45 bytes beside its value.
    const fields: (string | Buffer)[] = [
      'text',
      record.text,
      'meta',
      JSON.stringify({ kind: record.kind, tags: record.tags, model: record.model, dims: record.vector.length }),
      'src',
      JSON.stringify({
        origin: record.source.origin,
        stepId: record.source.stepId,
        untrusted: record.untrusted,
        createdAt: record.createdAt,
      }),
      'runId',
      record.source.runId ?? '',
      'expiresAt',
      String(record.expiresAt),
      'hits',
      '0',
      'vec',
      vec,
    ];
    const args = [
      k.memorySeq(tenant),
      k.memoryByCreation(tenant),
      k.memoryByExpiry(tenant),
      k.memoryLog(tenant),
      k.memoryEntry(tenant, ''),
      k.memoryBySourceRun(tenant, ''),
      this.logLength,
      String(cap),
      String(MAX_EVICTIONS_PER_WRITE),
      String(record.expiresAt),
      record.source.runId ?? '',
      ...fields,
    ];
    // A Buffer argument passes through ioredis as bytes (LuaCommand's type names strings only).
    const [id, ...evicted] = (await this.addScript(...(args as string[]))) as string[];
    return { id, evicted };
  }

  /** A near-duplicate was written: pushes the entry's expiry (never pulls it in) and counts a hit; null when gone. */
  async refresh(tenant: string, id: string, expiresAt: number): Promise<{ expiresAt: number; hits: number } | null> {
    const k = this.keys;
    const got = (await this.refreshScript(
      k.memoryEntry(tenant, id),
      k.memoryByExpiry(tenant),
      k.memoryLog(tenant),
      id,
      this.logLength,
      String(expiresAt),
    )) as [string, number] | null;
    return got ? { expiresAt: Number(got[0]), hits: Number(got[1]) } : null;
  }

  /** Removes entries by id; returns how many existed. */
  async delete(tenant: string, ids: string[]): Promise<number> {
    if (!ids.length) return 0;
    return Number(await this.deleteScript(...this.removalKeys(tenant), this.logLength, ...ids));
  }

  /** Removes every entry the run wrote, a batch per call; returns how many. */
  async deleteBySourceRun(tenant: string, runId: string): Promise<number> {
    let removed = 0;
    for (;;) {
      const [n, taken] = (await this.deleteRunScript(
        this.keys.memoryByCreation(tenant),
        this.keys.memoryByExpiry(tenant),
        this.keys.memoryLog(tenant),
        this.keys.memoryBySourceRun(tenant, runId),
        this.keys.memoryEntry(tenant, ''),
        this.keys.memoryBySourceRun(tenant, ''),
        this.logLength,
        String(MEMORY_BATCH),
      )) as [number, number];
      removed += Number(n);
      if (Number(taken) === 0) return removed;
    }
  }

  /** Removes one batch of the tenant's entries past `now`; returns how many ids were due (the batch size: call again). */
  async sweepBatch(tenant: string, now: number, batch = MEMORY_BATCH): Promise<number> {
    return Number(await this.sweepScript(...this.removalKeys(tenant), this.logLength, String(now), String(batch)));
  }

  /** Every tenant that has stored a memory. */
  async tenants(): Promise<string[]> {
    return this.redis.smembers(this.keys.memoryTenants());
  }

  async count(tenant: string): Promise<number> {
    return this.redis.zcard(this.keys.memoryByCreation(tenant));
  }

  /** The entries by id, in one pipelined read; null for an id the tenant has no entry of (or a malformed one). */
  async entries(tenant: string, ids: string[]): Promise<(MemoryEntry | null)[]> {
    if (!ids.length) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hmget(this.keys.memoryEntry(tenant, id), ...ENTRY_FIELDS);
    const replies = (await pipeline.exec()) ?? [];
    return ids.map((id, i) => {
      const [err, values] = replies[i] ?? [];
      if (err) throw err;
      return toEntry(tenant, id, values as (string | null)[]);
    });
  }

  /** What the vector index needs of the entries, in one pipelined read; null for an id with no entry. */
  async indexRecords(tenant: string, ids: string[]): Promise<(IndexedRecord | null)[]> {
    if (!ids.length) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hmgetBuffer(this.keys.memoryEntry(tenant, id), ...INDEX_FIELDS);
    const replies = (await pipeline.exec()) ?? [];
    return ids.map((id, i) => {
      const [err, values] = replies[i] ?? [];
      if (err) throw err;
      return toIndexRecord(id, values as (Buffer | null)[]);
    });
  }

  /** The tenant's ids by creation: `after` the one before the first wanted (exclusive), up to `count` of them. */
  async idsByCreation(tenant: string, count: number, after = 0): Promise<string[]> {
    return this.redis.zrangebyscore(this.keys.memoryByCreation(tenant), `(${after}`, '+inf', 'LIMIT', 0, count);
  }

  /** The tenant's ids, newest first, below the id `before` (exclusive; none: from the newest). */
  async idsNewestFirst(tenant: string, count: number, before?: string): Promise<string[]> {
    const max = before ? `(${idNumber(before)}` : '+inf';
    return this.redis.zrevrangebyscore(this.keys.memoryByCreation(tenant), max, '-inf', 'LIMIT', 0, count);
  }

  /** The ids a run wrote, newest first. */
  async idsOfRun(tenant: string, runId: string): Promise<string[]> {
    const ids = await this.redis.smembers(this.keys.memoryBySourceRun(tenant, runId));
    return ids.sort((a, b) => idNumber(b) - idNumber(a));
  }

  /** Where the tenant's change log stands, and up to `count` changes after `cursor` (none when it is ''). */
  async changes(tenant: string, cursor: string, count: number): Promise<MemoryChanges> {
    const [last, added, length, raw] = (await this.changesScript(
      this.keys.memoryLog(tenant),
      cursor,
      String(count),
    )) as [string, number, number, [string, string[]][] | undefined];
    const changes: MemoryChange[] = [];
    for (const [at, flat] of raw ?? []) {
      const f = new Map<string, string>();
      for (let i = 0; i + 1 < flat.length; i += 2) f.set(flat[i], flat[i + 1]);
      const op = f.get('op');
      const id = f.get('id') ?? '';
      if (op === 'add' || op === 'del') changes.push({ at, op, id });
      else if (op === 'exp') changes.push({ at, op, id, expiresAt: Number(f.get('v')) });
    }
    return { last, added: Number(added), length: Number(length), changes };
  }

  private removalKeys(tenant: string): string[] {
    const k = this.keys;
    return [
      k.memoryByCreation(tenant),
      k.memoryByExpiry(tenant),
      k.memoryLog(tenant),
      k.memoryEntry(tenant, ''),
      k.memoryBySourceRun(tenant, ''),
    ];
  }
}

/** The number of an id (`m123` -> 123): its key in a vector index and its score by creation. */
export function idNumber(id: string): number {
  return Number(MemoryId.parse(id).slice(1));
}

function toEntry(tenant: string, id: string, values: (string | null)[]): MemoryEntry | null {
  const [text, metaJson, srcJson, runId, expiresAt] = values;
  const meta = parseJson(EntryMeta, metaJson);
  const src = parseJson(EntrySource, srcJson);
  if (text === null || text === undefined || !meta || !src) return null;
  const parsed = MemoryEntry.safeParse({
    id,
    tenant,
    kind: meta.kind,
    text,
    tags: meta.tags,
    source: { origin: src.origin, runId: runId || null, stepId: src.stepId },
    untrusted: src.untrusted,
    createdAt: src.createdAt,
    expiresAt: Number(expiresAt),
  });
  return parsed.success ? parsed.data : null;
}

function toIndexRecord(id: string, values: (Buffer | null)[]): IndexedRecord | null {
  const [metaJson, expiresAt, vec] = values;
  const meta = parseJson(EntryMeta, metaJson?.toString());
  if (!meta || !vec) return null;
  // Copied: a Buffer from ioredis may start at an offset a Float32Array cannot view.
  const vector = new Float32Array(vec.byteLength >> 2);
  new Uint8Array(vector.buffer).set(vec.subarray(0, vector.byteLength));
  return { id, ...meta, expiresAt: Number(expiresAt?.toString()), vector };
}

/** A JSON field parsed and checked, or null when it is missing or malformed (the entry is then left out). */
function parseJson<T>(schema: z.ZodType<T>, raw: string | null | undefined): T | null {
  if (!raw) return null;
  try {
    const parsed = schema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
