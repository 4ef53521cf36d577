import { ToolSpec } from '@triad/contracts';
import type { RedisClient } from '../queue/redis-connection.js';
import { TriadKeys } from './triad-keys.js';

/** The tools executors offer, published in Redis so that planners (other processes) can show them to the model. */
export class ToolCatalog {
  private readonly key: string;

  constructor(
    private readonly redis: RedisClient,
    prefix: string,
  ) {
    this.key = new TriadKeys(prefix).tools();
  }

  /** Parsed entries by their stored JSON: the catalog changes rarely and is read on every plan. */
  private parsed = new Map<string, ToolSpec | null>();

  /** Publishes (or refreshes) the given tools. */
  async publish(specs: ToolSpec[]): Promise<void> {
    if (!specs.length) return;
    const fields = specs.flatMap((s) => [s.name, JSON.stringify(ToolSpec.parse(s))]);
    await this.redis.hset(this.key, ...fields);
  }

  /**
   * Every published tool, by name; an entry that does not parse is skipped. The catalog changes only when an executor
   * starts, and is read on every plan: a list read less than `maxAgeMs` ago is reused (one read at a time), and an
   * entry's JSON is parsed once, frozen (callers share it), while the stored JSON is the same.
   */
  list(maxAgeMs = LIST_MAX_AGE_MS): Promise<ToolSpec[]> {
    const now = Date.now();
    if (!this.listed || now - this.listed.at >= maxAgeMs) {
      const read = this.read();
      this.listed = { at: now, read };
      // A failed read is not reused, nor an empty catalog (its executors are starting: their tools are wanted at once).
      const forget = () => {
        if (this.listed?.read === read) this.listed = undefined;
      };
      read.then((specs) => specs.length || forget(), forget);
    }
    return this.listed.read;
  }

  private listed: { at: number; read: Promise<ToolSpec[]> } | undefined;

  private async read(): Promise<ToolSpec[]> {
    const raws = Object.values(await this.redis.hgetall(this.key));
    const parsed = new Map<string, ToolSpec | null>();
    for (const raw of raws) parsed.set(raw, this.parsed.has(raw) ? (this.parsed.get(raw) ?? null) : parseSpec(raw));
    this.parsed = parsed;
    return raws
      .flatMap((raw) => {
        const spec = parsed.get(raw);
        return spec ? [spec] : [];
      })
      .sort((a, b) => a.name.localeCompare(b.name));
  }
}

/** How long a listed catalog is reused. */
const LIST_MAX_AGE_MS = 1_000;

function parseSpec(raw: string): ToolSpec | null {
  const parsed = ToolSpec.safeParse(JSON.parse(raw));
  return parsed.success ? deepFreeze(parsed.data) : null;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
