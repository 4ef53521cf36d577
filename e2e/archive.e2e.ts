// The archive: with TRIAD_ARCHIVE_URL, every ended run (record, events, approval audit) is written to PostgreSQL
// before its Redis data starts to expire; once Redis no longer has it, the API, its event stream and the CLI answer
// from the archive (the record says `archived`); an admin's DELETE removes it from both. Real gateway, planner,
// executor and judge processes on the real Redis and PostgreSQL.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DEFAULT_TENANT, storeRunId } from '@triad/shared';
import type { Scenario } from '@triad/testing';
import pg from 'pg';
import { REPO_ROOT } from '../cli/src/stack/service-processes.js';
import { WatchedChild } from './support/child-process.js';
import { EffectServer } from './support/effect-server.js';
import { GatewayClient, readSse } from './support/gateway-harness.js';
import { acceptedScript, postWebhook } from './support/scripts.js';
import { TriadHarness } from './support/triad-harness.js';

const POSTGRES_URL = process.env.TRIAD_TEST_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/test';
const RETENTION_MS = 2_000;
const KEY = 'key-admin-0123456789';

const scenario: Scenario = {
  scripts: [
    acceptedScript('gated', [{ content: 'Notify.', toolCalls: [postWebhook('g1', 'archive')] }, { content: 'Sent.' }]),
  ],
};

let triad: TriadHarness;
let gw: GatewayClient;
let effects: EffectServer;
const db = new pg.Pool({ connectionString: POSTGRES_URL, max: 2 });

beforeAll(async () => {
  effects = await EffectServer.start();
  triad = await TriadHarness.start({
    scenario,
    executors: 1,
    env: {
      TRIAD_WEBHOOK_URL: `${effects.url}/hook`,
      TRIAD_JUDGE_POLICY: 'checks',
      TRIAD_RUN_RETENTION: `${RETENTION_MS}ms`,
      TRIAD_ARCHIVE_URL: POSTGRES_URL,
    },
  });
  gw = await GatewayClient.start(triad, { TRIAD_API_KEYS: `ops:${KEY}:admin` });
});
afterAll(async () => {
  await db.query('DELETE FROM triad_runs WHERE prefix = $1', [triad?.prefix]).catch(() => {});
  await db.end();
  await triad?.stop();
  await effects?.close();
});

const api = (method: string, path: string, body?: unknown) => gw.call(method, path, { key: KEY, body });

describe('archive', () => {
  it('keeps an ended run, its events and its approval audit in PostgreSQL, and answers from there after Redis', async () => {
    const { runId } = (await api('POST', '/v1/runs', { goal: 'goal:gated' })).body;
    const storeId = storeRunId(DEFAULT_TENANT, runId);
    const [gate] = await triad.pendingApprovals(storeId);
    // Not archived, and not expiring, while it runs.
    expect(
      await db.query('SELECT 1 FROM triad_runs WHERE prefix = $1 AND store_id = $2', [triad.prefix, storeId]),
    ).toMatchObject({ rowCount: 0 });
    expect(await triad.redis.pttl(triad.store.keys.run(storeId))).toBe(-1);
    expect((await api('POST', `/v1/runs/${runId}/approvals/${gate.id}/approve`, {})).status).toBe(200);
    const live = await triad.eventually(
      async () => {
        const r = await api('GET', `/v1/runs/${runId}`);
        return r.body.status === 'succeeded' && r.body;
      },
      { what: 'the run to succeed' },
    );
    const liveEvents = await triad.events(storeId);
    expect(live.archived).toBeUndefined();

    // Gone from Redis after the retention, which started once the archive had it.
    await triad.eventually(async () => (await triad.redis.exists(triad.store.keys.run(storeId))) === 0, {
      what: "the run's Redis data to expire",
    });
    expect(await triad.redis.keys(`${triad.prefix}:run:{${storeId}}*`)).toEqual([]);

    // The API answers from the archive, with the same record and every event, ids and all.
    const archived = await api('GET', `/v1/runs/${runId}`);
    expect(archived.status).toBe(200);
    expect(archived.body).toEqual({ ...live, archived: true });
    const stream = await readSse(`${gw.url}/v1/runs/${runId}/events`, { authorization: `Bearer ${KEY}` });
    expect([stream.status, stream.ended]).toEqual([200, true]);
    expect(stream.messages.map((e) => e.id)).toEqual(liveEvents.map((e) => e.id));
    expect(stream.messages.map((e) => e.event)).toEqual(liveEvents.map((e) => e.type));
    // Resuming after an event skips what came before it.
    const resumed = await readSse(`${gw.url}/v1/runs/${runId}/events`, {
      authorization: `Bearer ${KEY}`,
      'last-event-id': liveEvents[2].id,
    });
    expect(resumed.messages.map((e) => e.id)).toEqual(liveEvents.slice(3).map((e) => e.id));

    // The approval audit: who decided what.
    const audit = await db.query('SELECT record FROM triad_approvals WHERE prefix = $1 AND store_id = $2', [
      triad.prefix,
      storeId,
    ]);
    expect(audit.rows.map((r) => r.record)).toEqual([
      expect.objectContaining({ id: gate.id, tool: 'post_webhook', status: 'approved', decidedBy: 'ops' }),
    ]);

    // The CLI reads through the gateway: the same record, marked as archived.
    const status = await new WatchedChild(
      spawn(process.execPath, [`${REPO_ROOT}cli/dist/triad.js`, 'status', runId], {
        env: { PATH: process.env.PATH, TRIAD_URL: gw.url, TRIAD_API_KEY: KEY },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    ).exit({ what: 'triad status to end' });
    expect(status).toMatchObject({ code: 0, stderr: '' });
    expect(status.stdout).toMatch(/^status {4}succeeded/m);
    expect(status.stdout).toMatch(/^archived {2}yes/m);

    // An admin's DELETE removes it from the archive too.
    expect((await api('DELETE', `/v1/runs/${runId}`)).status).toBe(204);
    expect((await api('GET', `/v1/runs/${runId}`)).status).toBe(404);
    expect((await api('GET', `/v1/runs/${runId}/events`)).status).toBe(404);
    expect(
      (await db.query('SELECT 1 FROM triad_run_events WHERE prefix = $1 AND store_id = $2', [triad.prefix, storeId]))
        .rowCount,
    ).toBe(0);
  });

  it('applies its migrations once, however many services start at once', async () => {
    const { rows } = await db.query('SELECT version FROM triad_schema_migrations ORDER BY version');
    expect(rows.map((r) => r.version)).toEqual([1]);
  });
});
