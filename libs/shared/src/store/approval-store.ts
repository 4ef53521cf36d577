import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ApprovalRecord, type ApprovalStatus } from '../contracts/approval.js';
import { RunEvent } from '../contracts/run-events.js';
import { splitStoreRunId } from '../contracts/run-id.js';
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
    private readonly redis: Redis,
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
    await this.lua.request(
      this.keys.approval(a.runId, a.stepId),
      this.keys.pendingApprovals(splitStoreRunId(a.runId).tenant),
      this.keys.events(a.runId),
      this.keys.runExtraKeys(a.runId),
      this.keys.run(a.runId),
      encode(record),
      `${a.runId}/${a.stepId}`,
      String(a.expiresAt),
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
      this.keys.pendingApprovals(splitStoreRunId(runId).tenant),
      this.keys.events(runId),
      encode(fields),
      `${runId}/${stepId}`,
      JSON.stringify(event),
    );
    return res === 1;
  }

  /** Removes from a tenant's pending approvals the gates whose record is gone (with its run's data); returns how many. */
  async forgetGone(tenant: string): Promise<number> {
    const index = this.keys.pendingApprovals(tenant);
    const members = await this.redis.zrange(index, '0', '-1');
    if (!members.length) return 0;
    // One command each, not a pipeline: on a Redis Cluster the gates of different runs live in different slots.
    const exists = await Promise.all(
      members.map((m) => {
        const [runId = '', stepId = ''] = m.split('/');
        return this.redis.exists(this.keys.approval(runId, stepId));
      }),
    );
    const gone = members.filter((_, i) => exists[i] === 0);
    if (gone.length) await this.redis.zrem(index, ...gone);
    return gone.length;
  }

  /** A tenant's pending approvals, the soonest to expire first; `runId` (a store id) narrows to one run. */
  async listPending(tenant: string, opts: { runId?: string; limit?: number } = {}): Promise<ApprovalRecord[]> {
    const members = await this.redis.zrange(this.keys.pendingApprovals(tenant), '0', '-1');
    const wanted = members
      .map((m) => m.split('/') as [string, string])
      .filter(([runId]) => !opts.runId || runId === opts.runId)
      .slice(0, opts.limit ?? 100);
    const records = await Promise.all(wanted.map(([runId, stepId]) => this.get(runId, stepId)));
    return records.filter((r): r is ApprovalRecord => r?.status === 'pending');
  }
}

// Public approval ids are `<stepId>.<128 random bits>`: a step id alone (`1-0`) is guessable, and the gateway
// without keys must not let a page that guesses one approve it. Records stay stored by step id.
const newApprovalId = (stepId: string) => `${stepId}.${randomBytes(16).toString('base64url')}`;
const sameId = (a: string, b: string) => timingSafeEqual(digest(a), digest(b));
const digest = (s: string) => createHash('sha256').update(s).digest();

// Every field as a string (Lua's cjson would turn big numbers into floats); null as the empty string.
function encode(fields: Record<string, string | number | null>): string {
  return JSON.stringify(Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, v === null ? '' : String(v)])));
}
