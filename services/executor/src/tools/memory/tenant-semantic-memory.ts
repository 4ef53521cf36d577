import { type MemoryEntry, type MemorySearch, type SemanticMemory, splitStoreRunId } from '@triad/shared';
import type { Memorized, RunSemanticMemory } from '../run-semantic-memory.js';

/** Entries read per page while looking for what a step stored before. */
const PAGE = 200;

/** RunSemanticMemory over the service's SemanticMemory, bound to one run (its store id: `<tenant>~<runId>`). */
export class TenantSemanticMemory implements RunSemanticMemory {
  private readonly tenant: string;
  private readonly runId: string;

  constructor(
    private readonly memory: SemanticMemory,
    storeRunId: string,
  ) {
    const { tenant, runId } = splitStoreRunId(storeRunId);
    this.tenant = tenant;
    this.runId = runId;
  }

  async memorize(stepId: string, what: Memorized): Promise<{ entry: MemoryEntry; duplicate: boolean }> {
    // The step ran before and its result was lost (the executor stopped before the ledger recorded it): the entry
    // it stored then is the answer, so a redelivered step never stores twice.
    const earlier = await this.storedBy(stepId);
    if (earlier) return { entry: earlier, duplicate: true };
    const { entry, duplicate } = await this.memory.write({
      ...what,
      tenant: this.tenant,
      source: { origin: 'tool', runId: this.runId, stepId },
      untrusted: true,
    });
    return { entry, duplicate };
  }

  async search(query: MemorySearch) {
    return (await this.memory.search(this.tenant, query)).matches;
  }

  private async storedBy(stepId: string): Promise<MemoryEntry | null> {
    let cursor: string | undefined;
    do {
      const page = await this.memory.list(this.tenant, { sourceRunId: this.runId, limit: PAGE, cursor });
      const found = page.entries.find((e) => e.source.origin === 'tool' && e.source.stepId === stepId);
      if (found) return found;
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return null;
  }
}
