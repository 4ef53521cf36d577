/** Where a memory lives: with the run, or across runs (long-lived lessons). */
export type MemoryScope = 'run' | 'global';

export interface MemoryEntry {
  key: string;
  value: string;
  at: number;
}

/** Key-value memory for the remember/recall tools; the executor backs it with Redis. */
export interface ToolMemory {
  /** Stores `value` under `key` in the scope (the run's own scope is keyed by the calling run). */
  remember(scope: MemoryScope, key: string, value: string): Promise<void>;
  /** One entry by key, or every entry of the scope (newest first, bounded) when key is null. */
  recall(scope: MemoryScope, key: string | null): Promise<MemoryEntry[]>;
}
