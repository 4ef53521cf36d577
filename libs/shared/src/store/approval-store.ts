import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { ApprovalRecord, type ApprovalStatus, RunEvent, splitStoreRunId } from '@triad/contracts';
import type { RedisClient } from '../queue/redis-connection.js';
import { type LuaCommand, luaCommand } from './lua-scripts.js';
import { TriadKeys } from './triad-keys.js';

export type NewApproval = Omit<
  ApprovalRecord,
  'id' | 'argumentsHash' | 'status' | 'decidedBy' | 'decidedAt' | 'reason' | 'editedArguments'
>;

export interface ApprovalOutcome {
  status: Exclude<ApprovalStatus, 'pending'>;
  by: string;
  reason?: string | null;
  editedArguments?: string | null;
}

/** sha256 of a tool call's raw arguments. */
export const hashArguments = (args: string) => createHash('sha256').update(args).digest('hex');

const NULLABLE = ['decidedBy', 'decidedAt', 'reason', 'editedArguments'] as const;

/** Approval records of gated steps: opened once per step, decided once; every change is a run event. */
export class ApprovalStore {
  readonly keys: TriadKeys;
  private readonly lua: Record<'request' | 'decide', LuaCommand>;

  constructor(
    private readonly redis: RedisClient,
    prefix: string,
  ) {
    this.keys = new TriadKeys(prefix);
    this.lua = {
      request: luaCommand(redis, 'request-approval'),
      decide: luaCommand(redis, 'decide-approval'),
    };
  }

  /** Opens the gate of a step; returns the record (the existing one when the gate was opened before). */
  async request(a: NewApproval): Promise<ApprovalRecord> {
    const record: ApprovalRecord = {
      ...a,
      id: newApprovalId(a.stepId),
      argumentsHash: hashArguments(a.arguments),
      status: 'pending',
      decidedBy: null,
      decidedAt: null,
      reason: null,
      editedArguments: null,
    };
    const event = RunEvent.parse({
      type: 'approval.requested',
      iteration: a.iteration,
      at: a.requestedAt,
      approvalId: record.id,
      stepId: a.stepId,
      tool: a.tool,
      risk: a.risk,
      arguments: a.arguments,
      argumentsHash: record.argumentsHash,
      expiresAt: a.expiresAt,
    });
    // Index first, gate second (they are in different slots on a Redis Cluster): a pending gate is always listed.
    await this.redis.zadd(this.pendingKey(a.runId), 'NX', a.expiresAt, member(a.runId, a.stepId));
    await this.lua.request(
      this.keys.approval(a.runId, a.stepId),
      this.keys.events(a.runId),
      this.keys.runExtraKeys(a.runId),
      this.keys.run(a.runId),
      encode(record),
      JSON.stringify(event),
    );
    return (await this.get(a.runId, a.stepId)) as ApprovalRecord;
  }

  /** The approval of a step, or null. */
  async get(runId: string, stepId: string): Promise<ApprovalRecord | null> {
    const h = await this.redis.hgetall(this.keys.approval(runId, stepId));
    if (!h.id) return null;
    const nullable = Object.fromEntries(NULLABLE.map((k) => [k, h[k] === undefined || h[k] === '' ? null : h[k]]));
    return ApprovalRecord.parse({
      ...h,
      ...nullable,
      iteration: Number(h.iteration),
      requestedAt: Number(h.requestedAt),
      expiresAt: Number(h.expiresAt),
      decidedAt: nullable.decidedAt === null ? null : Number(nullable.decidedAt),
    });
  }

  /** The approval a public id names, or null: the step part finds the record, the random part must match. */
  async find(runId: string, approvalId: string): Promise<ApprovalRecord | null> {
    const found = await this.get(runId, approvalId.split('.')[0]);
    return found && sameId(found.id, approvalId) ? found : null;
  }

  /** Decides a pending approval; false (and nothing changes) when it was decided before. */
  async decide(runId: string, stepId: string, outcome: ApprovalOutcome, now = Date.now()): Promise<boolean> {
    const current = await this.get(runId, stepId);
    if (!current) return false;
    const fields = {
      status: outcome.status,
      decidedBy: outcome.by,
      decidedAt: now,
      reason: outcome.reason ?? null,
      editedArguments: outcome.editedArguments ?? null,
    };
    const event = RunEvent.parse({
      type: 'approval.decided',
      iteration: current.iteration,
      at: now,
      approvalId: current.id,
      stepId,
      status: outcome.status,
      by: outcome.by,
      reason: fields.reason,
      edited: fields.editedArguments !== null,
    });
    const res = await this.lua.decide(
      this.keys.approval(runId, stepId),
      this.keys.events(runId),
      encode(fields),
      JSON.stringify(event),
    );
    // Gate first, index second: a decision lost between the two leaves a decided gate listed, which listPending
    // skips and removes. Removed whatever this call found, so a repeated decision completes one that crashed here.
    await this.redis.zrem(this.pendingKey(runId), member(runId, stepId));
    return res === 1;
  }

  /**
   * Removes a tenant's stale pending-approval entries (see readPending), e.g. those of runs whose data has expired;
   * returns how many.
   */
  async forgetGone(tenant: string, now = Date.now()): Promise<number> {
    return (await this.readPending(tenant, { goneRuns: true }, now)).pruned;
  }

  /** A tenant's pending approvals, the soonest to expire first; `runId` (a store id) narrows to one run. */
  async listPending(
    tenant: string,
    opts: { runId?: string; limit?: number } = {},
    now = Date.now(),
  ): Promise<ApprovalRecord[]> {
    return (await this.readPending(tenant, { runId: opts.runId, limit: opts.limit ?? 100 }, now)).pending;
  }

  /**
   * Reads the gates of a tenant's pending-approvals index (at most `limit`, of one run if given) and removes the
   * entries of gates decided (their removal did not happen), of gates missing past their deadline (never opened)
   * and, with `goneRuns`, of missing gates whose run is gone (expired or deleted). An entry whose gate is not open yet,
   * before its deadline, of a run that exists, is left alone: the index entry is written before the gate (request).
   */
  private async readPending(
    tenant: string,
    opts: { runId?: string; limit?: number; goneRuns?: boolean },
    now: number,
  ): Promise<{ pending: ApprovalRecord[]; pruned: number }> {
    const key = this.keys.pendingApprovals(tenant);
    const entries = await this.redis.zrange(key, '0', '-1', 'WITHSCORES');
    const limit = opts.limit ?? Number.POSITIVE_INFINITY;
    const wanted: { member: string; runId: string; stepId: string; deadline: number }[] = [];
    for (let i = 0; i + 1 < entries.length && wanted.length < limit; i += 2) {
      const [runId = '', stepId = ''] = (entries[i] as string).split('/');
      if (!opts.runId || runId === opts.runId) {
        wanted.push({ member: entries[i] as string, runId, stepId, deadline: Number(entries[i + 1]) });
      }
    }
    const records = await Promise.all(wanted.map((w) => this.get(w.runId, w.stepId)));
    // A missing gate before its deadline may be about to open, unless its run is gone (with `goneRuns`: one read per
    // such entry, for the retention sweep).
    const runGone = await Promise.all(
      wanted.map(async (w, i) =>
        opts.goneRuns && !records[i] && w.deadline >= now
          ? (await this.redis.exists(this.keys.run(w.runId))) === 0
          : false,
      ),
    );
    const stale = wanted.filter((w, i) => {
      const r = records[i];
      return r ? r.status !== 'pending' : w.deadline < now || runGone[i];
    });
    if (stale.length) await this.redis.zrem(key, ...stale.map((w) => w.member));
    return { pending: records.filter((r): r is ApprovalRecord => r?.status === 'pending'), pruned: stale.length };
  }

  private pendingKey(runId: string): string {
    return this.keys.pendingApprovals(splitStoreRunId(runId).tenant);
  }
}

/** A gate in its tenant's pending approvals index. */
const member = (runId: string, stepId: string) => `${runId}/${stepId}`;

// Public approval ids are `<stepId>.<128 random bits>`: a step id alone (`1-0`) is guessable, and the gateway
// without keys must not let a page that guesses one approve it. Records stay stored by step id.
const newApprovalId = (stepId: string) => `${stepId}.${randomBytes(16).toString('base64url')}`;
const sameId = (a: string, b: string) => timingSafeEqual(digest(a), digest(b));
const digest = (s: string) => createHash('sha256').update(s).digest();

// Every field as a string (Lua's cjson would turn big numbers into floats); null as the empty string.
function encode(fields: Record<string, string | number | null>): string {
  return JSON.stringify(Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, v === null ? '' : String(v)])));
}
