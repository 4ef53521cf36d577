import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from '@jest/globals';
import type { StoredRunEvent } from '@triad/contracts';
import { RUN_SCHEMA_VERSION, type RunRecord } from '@triad/contracts';
import { RunArchive } from './run-archive.js';

// Against the real PostgreSQL of this machine: the SQL, the jsonb round trip and the migration lock are what matter.
const url = process.env.TRIAD_TEST_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/test';
const prefix = `spec${randomBytes(4).toString('hex')}`;
const archives = [new RunArchive(url, prefix), new RunArchive(url, prefix), new RunArchive(url, prefix)];
const [archive] = archives as [RunArchive, ...RunArchive[]];
const other = new RunArchive(url, `${prefix}x`);

afterAll(async () => {
  await archive.delete('acme~r1');
  await Promise.all([...archives, other].map((a) => a.close()));
});

const run: RunRecord = {
  schemaVersion: RUN_SCHEMA_VERSION,
  id: 'acme~r1',
  tenant: 'acme',
  status: 'succeeded',
  phase: 'done',
  iteration: 2,
  request: null,
  usage: { inputTokens: 10, outputTokens: 5, modelCalls: 2, toolCalls: 1, costUsd: 0.25 },
  createdAt: 1_763_900_000_123,
  updatedAt: 1_763_900_001_000,
  finishedAt: 1_763_900_001_000,
  answer: 'three',
  error: null,
};
const events = [
  { id: '1763900000123-0', type: 'status.changed', iteration: 0, at: 1, from: null, to: 'running', reason: null },
  {
    id: '1763900000999-1',
    type: 'status.changed',
    iteration: 2,
    at: 2,
    from: 'running',
    to: 'succeeded',
    reason: 'ok',
  },
] as StoredRunEvent[];

describe('RunArchive', () => {
  it('applies its migrations once when several processes start at the same time', async () => {
    const applied = await Promise.all(archives.map((a) => a.migrate()));
    expect(applied.flat().filter((v) => v === 1).length).toBeLessThanOrEqual(1);
    expect(await archive.migrate()).toEqual([]);
  });

  it('writes a run once however often it is written, and reads it back marked as archived', async () => {
    await archive.write({ run, events, approvals: [] });
    await archive.write({ run, events, approvals: [] }); // a redelivered archive job
    expect(await archive.get('acme~r1')).toEqual({ ...run, archived: true });
    expect(await archive.events('acme~r1')).toEqual(events);
    expect(await archive.approvals('acme~r1')).toEqual([]);
    // Another deployment (prefix) sharing the database sees none of it.
    expect(await other.get('acme~r1')).toBeNull();
  });

  it('deletes a run with its events', async () => {
    expect(await archive.delete('acme~r1')).toBe(true);
    expect(await archive.get('acme~r1')).toBeNull();
    expect(await archive.events('acme~r1')).toEqual([]);
    expect(await archive.delete('acme~r1')).toBe(false);
  });

  it('reports an unreachable database to its caller instead of hanging or crashing', async () => {
    const down = new RunArchive('postgres://postgres@127.0.0.1:1/test', prefix);
    await expect(down.write({ run, events, approvals: [] })).rejects.toThrow(/ECONNREFUSED/);
    await down.close();
  });
});
