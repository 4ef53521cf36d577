import type { PoolClient } from 'pg';

/**
 * The archive's schema, one migration per version, applied in order at start (see applyMigrations). Append a new
 * version for every change; never edit one that has shipped. Every row carries the Redis prefix of the Triad that
 * wrote it, so several deployments (or test suites) may share one database.
 */
export const ARCHIVE_MIGRATIONS: readonly { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE triad_runs (
        prefix      text   NOT NULL,
        store_id    text   NOT NULL,
        tenant      text   NOT NULL,
        status      text   NOT NULL,
        created_at  bigint NOT NULL,
        finished_at bigint,
        record      jsonb  NOT NULL,
        archived_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (prefix, store_id)
      );
      CREATE INDEX triad_runs_by_tenant ON triad_runs (prefix, tenant, created_at DESC);
      CREATE TABLE triad_run_events (
        prefix   text    NOT NULL,
        store_id text    NOT NULL,
        seq      integer NOT NULL,
        event_id text    NOT NULL,
        event    jsonb   NOT NULL,
        PRIMARY KEY (prefix, store_id, seq),
        FOREIGN KEY (prefix, store_id) REFERENCES triad_runs ON DELETE CASCADE
      );
      CREATE TABLE triad_approvals (
        prefix   text  NOT NULL,
        store_id text  NOT NULL,
        step_id  text  NOT NULL,
        record   jsonb NOT NULL,
        PRIMARY KEY (prefix, store_id, step_id),
        FOREIGN KEY (prefix, store_id) REFERENCES triad_runs ON DELETE CASCADE
      );`,
  },
];

// Any fixed number: every process applying migrations takes the same lock, so two never apply one twice.
const MIGRATION_LOCK = 7_140_233_901;

/** Applies the migrations the database has not seen, in one transaction, under a lock shared by every process. */
export async function applyMigrations(client: PoolClient): Promise<number[]> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query(
      'CREATE TABLE IF NOT EXISTS triad_schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const { rows } = await client.query<{ v: number | null }>('SELECT max(version) AS v FROM triad_schema_migrations');
    const current = rows[0]?.v ?? 0;
    const applied: number[] = [];
    for (const m of ARCHIVE_MIGRATIONS.filter((x) => x.version > current)) {
      await client.query(m.sql);
      await client.query('INSERT INTO triad_schema_migrations (version) VALUES ($1)', [m.version]);
      applied.push(m.version);
    }
    await client.query('COMMIT');
    return applied;
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  }
}
