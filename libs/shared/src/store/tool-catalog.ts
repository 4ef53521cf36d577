import type { Redis } from 'ioredis';
import { ToolSpec } from '../contracts/tool-spec.js';

/** The tools executors offer, published in Redis so that planners (other processes) can show them to the model. */
export class ToolCatalog {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key = () => `${this.prefix}:tools`;

  /** Publishes (or refreshes) the given tools. */
  async publish(specs: ToolSpec[]): Promise<void> {
    if (!specs.length) return;
    const fields = specs.flatMap((s) => [s.name, JSON.stringify(ToolSpec.parse(s))]);
    await this.redis.hset(this.key(), ...fields);
  }

  /** Every published tool, by name; an entry that does not parse is skipped. */
  async list(): Promise<ToolSpec[]> {
    const all = await this.redis.hgetall(this.key());
    return Object.values(all)
      .flatMap((raw) => {
        const parsed = ToolSpec.safeParse(JSON.parse(raw));
        return parsed.success ? [parsed.data] : [];
      })
      .sort((a, b) => a.name.localeCompare(b.name));
  }
}
