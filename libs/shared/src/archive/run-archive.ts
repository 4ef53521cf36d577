import type { ApprovalRecord, RunRecord, StoredRunEvent } from '@triad/contracts';
import pg from 'pg';
import { applyMigrations } from './archive-migrations.js';

/** What the archive keeps of an ended run: its record, its events (with their stream ids) and its approvals. */
export interface ArchivedRun {
  run: RunRecord;
  events: StoredRunEvent[];
  approvals: ApprovalRecord[];
}

/**
 * Ended runs in PostgreSQL, for after their Redis data has expired. Written once per run by the `archive` worker
 * (an upsert, so a redelivery rewrites the same rows), read by the gateway when Redis no longer has a run.
 */
export class RunArchive {
  private readonly pool: pg.Pool;

  constructor(
    url: string,
    private readonly prefix: string,
  ) {
    this.pool = new pg.Pool({ connectionString: url, max: 4, application_name: 'triad' });
    // An idle client that loses its server emits here; the next query reports the failure to its caller.
    this.pool.on('error', () => {});
  }

  /** Brings the schema up to date (see archive-migrations.ts); every service with an archive calls it at start. */
  async migrate(): Promise<number[]> {
    const client = await this.pool.connect();
    try {
      return await applyMigrations(client);
    } finally {
      client.release();
    }
  }

  /** Writes (or rewrites) a run with its events and approvals, in one transaction. */
  async write({ run, events, approvals }: ArchivedRun): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(
        `INSERT INTO triad_runs (prefix, store_id, tenant, status, created_at, finished_at, record)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (prefix, store_id) DO UPDATE SET status = $4, finished_at = $6, record = $7, archived_at = now()`,
        [this.prefix, run.id, run.tenant, run.status, run.createdAt, run.finishedAt, run],
      );
      await client.query('DELETE FROM triad_run_events WHERE prefix = $1 AND store_id = $2', [this.prefix, run.id]);
      await client.query(
        `INSERT INTO triad_run_events (prefix, store_id, seq, event_id, event)
         SELECT $1, $2, s.seq, s.id, s.event FROM unnest($3::text[], $4::jsonb[]) WITH ORDINALITY AS s(id, event, seq)`,
        [this.prefix, run.id, events.map((e) => e.id), events.map(({ id: _, ...e }) => JSON.stringify(e))],
      );
      await client.query('DELETE FROM triad_approvals WHERE prefix = $1 AND store_id = $2', [this.prefix, run.id]);
      await client.query(
        `INSERT INTO triad_approvals (prefix, store_id, step_id, record)
         SELECT $1, $2, s.step, s.record FROM unnest($3::text[], $4::jsonb[]) AS s(step, record)`,
        [this.prefix, run.id, approvals.map((a) => a.stepId), approvals.map((a) => JSON.stringify(a))],
      );
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  /** The archived record of a run (by store id), marked `archived`, or null. */
  async get(storeId: string): Promise<RunRecord | null> {
    const { rows } = await this.pool.query<{ record: RunRecord }>(
      'SELECT record FROM triad_runs WHERE prefix = $1 AND store_id = $2',
      [this.prefix, storeId],
    );
    const record = rows[0]?.record;
    return record ? { ...record, archived: true } : null;
  }

  /** The archived events of a run, oldest first. */
  async events(storeId: string): Promise<StoredRunEvent[]> {
    const { rows } = await this.pool.query<{ event_id: string; event: Omit<StoredRunEvent, 'id'> }>(
      'SELECT event_id, event FROM triad_run_events WHERE prefix = $1 AND store_id = $2 ORDER BY seq',
      [this.prefix, storeId],
    );
    return rows.map((r) => ({ ...r.event, id: r.event_id }) as StoredRunEvent);
  }

  /** The archived approvals (the audit of every gate) of a run. */
  async approvals(storeId: string): Promise<ApprovalRecord[]> {
    const { rows } = await this.pool.query<{ record: ApprovalRecord }>(
      'SELECT record FROM triad_approvals WHERE prefix = $1 AND store_id = $2 ORDER BY step_id',
      [this.prefix, storeId],
    );
    return rows.map((r) => r.record);
  }

  /** Deletes a run from the archive (its events and approvals go with it); whether there was one. */
  async delete(storeId: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('DELETE FROM triad_runs WHERE prefix = $1 AND store_id = $2', [
      this.prefix,
      storeId,
    ]);
    return (rowCount ?? 0) > 0;
  }

  /** Whether the archive answers (for readiness). */
  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
