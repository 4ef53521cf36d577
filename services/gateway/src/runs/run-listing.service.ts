import { Inject, Injectable } from '@nestjs/common';
import {
  type ListRunsQuery,
  type ListRunsResponse,
  type RedisClient,
  RUN_REDIS,
  type RunRecord,
  RunStore,
  runView,
  splitStoreRunId,
} from '@triad/shared';
import { ApiException } from '../http/api-exception.js';

/**
 * How many run ids one page request looks at, at most, when a filter skips most of them: a filter reads only the
 * `status` and `request` fields of each run, and the whole record of the ones it keeps.
 */
const SCAN_BUDGET = 10_000;
const BATCH = 250;

interface Cursor {
  /** Offset in the newest-first index where the next page starts. */
  o: number;
  /** The last run id looked at: new runs shift offsets, so the page resumes after this id when it still exists. */
  id: string;
}

const encode = (c: Cursor) => Buffer.from(JSON.stringify(c)).toString('base64url');

function decode(cursor: string): Cursor {
  try {
    const c = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Cursor;
    // A crafted offset (1e21) would reach Redis as "1e+21", which it refuses: only what encode() could write passes.
    if (Number.isSafeInteger(c.o) && c.o >= 0 && typeof c.id === 'string' && c.id.length <= 256) return c;
  } catch {}
  throw new ApiException('invalid_request', 'invalid cursor', [
    { path: 'cursor', message: 'not a cursor of this API' },
  ]);
}

/** Pages over a tenant's run index (newest first), filtering by status. */
@Injectable()
export class RunListingService {
  constructor(
    private readonly store: RunStore,
    @Inject(RUN_REDIS) private readonly redis: RedisClient,
  ) {}

  async list(tenant: string, q: ListRunsQuery): Promise<ListRunsResponse> {
    let offset = q.cursor ? await this.resume(tenant, decode(q.cursor)) : 0;
    const filtered = q.status !== undefined || q.q !== undefined;
    const runs: RunRecord[] = [];
    let lastId: string | null = null;
    let scanned = 0;
    while (runs.length < q.limit && scanned < SCAN_BUDGET) {
      const ids = await this.store.list(tenant, offset, filtered ? BATCH : q.limit - runs.length);
      if (!ids.length) return { runs, nextCursor: null };
      const kept = filtered ? await this.matching(ids, q) : ids.map(() => true);
      // Whole records only for what this page still needs: the page ends at the last run it takes.
      let wanted = q.limit - runs.length;
      const take = kept.map((k) => k && wanted-- > 0);
      const records = await Promise.all(ids.map((id, i) => (take[i] ? this.store.get(id) : null)));
      for (const [i, id] of ids.entries()) {
        offset++;
        scanned++;
        lastId = id;
        const run = records[i];
        if (run && (!q.status || run.status === q.status)) runs.push(runView(run));
        if (runs.length === q.limit) break;
      }
    }
    const more = lastId !== null && (await this.store.list(tenant, offset, 1)).length > 0;
    return { runs, nextCursor: more && lastId ? encode({ o: offset, id: lastId }) : null };
  }

  /** Which of `ids` pass the filter, from their status and request fields alone. */
  private async matching(ids: string[], q: ListRunsQuery): Promise<boolean[]> {
    const needle = q.q?.toLowerCase();
    const fields = await Promise.all(
      ids.map((id) => this.redis.hmget(this.store.keys.run(id), 'status', ...(needle ? ['request'] : []))),
    );
    return ids.map((id, i) => {
      const [status, request] = fields[i];
      if (q.status && status !== q.status) return false;
      if (!needle) return true;
      return splitStoreRunId(id).runId.toLowerCase().includes(needle) || goalOf(request).includes(needle);
    });
  }

  private async resume(tenant: string, c: Cursor): Promise<number> {
    const rank = await this.redis.zrevrank(this.store.keys.index(tenant), c.id);
    return rank === null ? c.o : rank + 1;
  }
}

function goalOf(request: string | null): string {
  try {
    const goal = request ? (JSON.parse(request) as { goal?: unknown }).goal : null;
    return typeof goal === 'string' ? goal.toLowerCase() : '';
  } catch {
    return '';
  }
}
