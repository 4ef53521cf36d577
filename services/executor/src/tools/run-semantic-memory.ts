import type { MemoryEntry, MemoryKind, MemoryMatch, MemorySearch } from '@triad/shared';

/** What the `memorize` tool stores. */
export interface Memorized {
  text: string;
  kind: MemoryKind;
  tags: string[];
}

/**
 * The tenant's semantic memory as a run's tools see it: bound to the run's tenant and the run (never to anything in
 * a tool's arguments), so a tool can neither read nor write another tenant's memories.
 */
export interface RunSemanticMemory {
  /**
   * Stores what the step `stepId` memorized, as untrusted text (a model that read tool outputs wrote it) with the run
   * and step as its source. At most once per step: a redelivered step gets back the entry it stored the first time.
   */
  memorize(stepId: string, what: Memorized): Promise<{ entry: MemoryEntry; duplicate: boolean }>;
  /** The tenant's entries closest in meaning to the query. */
  search(query: MemorySearch): Promise<MemoryMatch[]>;
}
