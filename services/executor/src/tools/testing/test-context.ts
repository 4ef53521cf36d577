import os from 'node:os';
import path from 'node:path';
import type { RunSemanticMemory } from '../run-semantic-memory.js';
import type { ToolContext } from '../tool.js';
import type { MemoryEntry, MemoryScope, ToolMemory } from '../tool-memory.js';
import { Workspace } from '../workspace.js';

/** A ToolMemory kept in a Map, for specs; recall lists newest first like the Redis one. */
export class InMemoryToolMemory implements ToolMemory {
  private readonly scopes = new Map<MemoryScope, Map<string, MemoryEntry>>();
  private clock = 0;

  /** Stores the entry; a strictly increasing clock keeps "newest first" deterministic within one millisecond. */
  async remember(scope: MemoryScope, key: string, value: string): Promise<void> {
    const entries = this.scopes.get(scope) ?? new Map<string, MemoryEntry>();
    this.clock = Math.max(this.clock + 1, Date.now());
    entries.set(key, { key, value, at: this.clock });
    this.scopes.set(scope, entries);
  }

  /** The entry under key, or all entries of the scope, newest first. */
  async recall(scope: MemoryScope, key: string | null): Promise<MemoryEntry[]> {
    const entries = this.scopes.get(scope) ?? new Map<string, MemoryEntry>();
    if (key !== null) return entries.has(key) ? [{ ...(entries.get(key) as MemoryEntry) }] : [];
    return [...entries.values()].sort((a, b) => b.at - a.at).map((e) => ({ ...e }));
  }
}

// Specs that never touch files get a workspace that refuses every path, so a forgotten override fails loudly
// instead of reading or writing wherever the tests happen to run.
class NoWorkspace extends Workspace {
  constructor() {
    super(path.join(os.tmpdir(), 'triad-spec-without-workspace'));
  }

  override async resolve(relPath: string): Promise<string> {
    throw new Error(`This spec gave no workspace, yet a tool asked for "${relPath}"`);
  }
}

// Likewise a semantic memory that refuses: a spec of memorize or search_memory gives a real one.
const noSemanticMemory: RunSemanticMemory = {
  memorize: async () => {
    throw new Error('This spec gave no semantic memory, yet a tool memorized');
  },
  search: async () => {
    throw new Error('This spec gave no semantic memory, yet a tool searched it');
  },
};

/** A complete ToolContext for specs: a live signal, fixed ids, an in-memory memory; override any part. */
export function testContext(overrides: Partial<ToolContext> = {}): ToolContext {
  return {
    signal: new AbortController().signal,
    idempotencyKey: 'k',
    runId: 'r',
    stepId: 's',
    goal: 'the goal of the test run',
    workspace: new NoWorkspace(),
    memory: new InMemoryToolMemory(),
    semanticMemory: noSemanticMemory,
    ...overrides,
  };
}
