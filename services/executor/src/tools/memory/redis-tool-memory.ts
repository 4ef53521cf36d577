import { type LuaCommand, luaCommand, type RedisClient, splitStoreRunId, type TriadKeys } from '@triad/shared';
import { ToolFailure } from '../tool.js';
import type { MemoryEntry, MemoryScope, ToolMemory } from '../tool-memory.js';

/** Longest memory key, in characters. */
export const MAX_MEMORY_KEY_CHARS = 128;
/** Largest memory value, in UTF-8 bytes. */
export const MAX_MEMORY_VALUE_BYTES = 8 * 1024;
/** Most entries one recall returns (the newest). */
export const MAX_RECALLED_ENTRIES = 200;
/** Most entries one scope holds; a new key beyond it is refused, so a scope's hash stays small to read whole. */
export const MAX_ENTRIES_PER_SCOPE = 500;

interface Stored {
  value: string;
  at: number;
}

/** ToolMemory in Redis: one hash per scope (the run, or its tenant for `global`), field = key, value = JSON of { value, at }. */
export class RedisToolMemory implements ToolMemory {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: TriadKeys,
    private readonly runId: string,
  ) {
    this.rememberScript = luaCommand(redis, 'remember');
  }

  private readonly rememberScript: LuaCommand;

  /** Stores the value; throws ToolFailure on an oversized key or value, or a full scope. */
  async remember(scope: MemoryScope, key: string, value: string): Promise<void> {
    checkKey(key);
    const bytes = Buffer.byteLength(value, 'utf8');
    if (bytes > MAX_MEMORY_VALUE_BYTES) {
      throw new ToolFailure(`The value is ${bytes} bytes; a memory holds at most ${MAX_MEMORY_VALUE_BYTES} bytes`);
    }
    const stored: Stored = { value, at: Date.now() };
    const ok = await this.rememberScript(this.key(scope), key, JSON.stringify(stored), String(MAX_ENTRIES_PER_SCOPE));
    if (ok !== 1) {
      throw new ToolFailure(
        `The ${scope} memory is full (${MAX_ENTRIES_PER_SCOPE} keys); overwrite an existing key instead of adding one`,
      );
    }
  }

  /** The entry under key (or none), or the newest entries of the scope when key is null. */
  async recall(scope: MemoryScope, key: string | null): Promise<MemoryEntry[]> {
    if (key !== null) {
      checkKey(key);
      const raw = await this.redis.hget(this.key(scope), key);
      return raw === null ? [] : [entry(key, raw)];
    }
    const all = await this.redis.hgetall(this.key(scope));
    return Object.entries(all)
      .map(([k, raw]) => entry(k, raw))
      .sort((a, b) => b.at - a.at || (a.key < b.key ? -1 : 1))
      .slice(0, MAX_RECALLED_ENTRIES);
  }

  private key(scope: MemoryScope): string {
    return scope === 'run'
      ? this.keys.runMemory(this.runId)
      : this.keys.tenantMemory(splitStoreRunId(this.runId).tenant);
  }
}

function checkKey(key: string): void {
  if (key.length === 0 || key.length > MAX_MEMORY_KEY_CHARS) {
    throw new ToolFailure(`A memory key must be 1 to ${MAX_MEMORY_KEY_CHARS} characters long`);
  }
}

function entry(key: string, raw: string): MemoryEntry {
  const stored = JSON.parse(raw) as Stored;
  return { key, value: stored.value, at: stored.at };
}
