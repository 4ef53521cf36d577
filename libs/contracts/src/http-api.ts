import { z } from 'zod';
import { ApprovalRecord } from './approval.js';
import { Budget, MAX_GOAL_CHARS } from './goal-request.js';
import { MAX_MEMORY_TAGS, MemoryEntry, MemoryId, MemoryKind, MemoryMatch, MemoryTag } from './memory.js';
import { RunId } from './run-id.js';
import { RunRecord, RunStatus } from './run-record.js';
import { ToolSpec } from './tool-spec.js';

// The HTTP API of the gateway (v1), shared by the gateway and the client library so both ends parse the same shapes.
// Routes: POST /v1/runs, GET /v1/runs, GET /v1/runs/:id, GET /v1/runs/:id/events (SSE), POST /v1/runs/:id/cancel,
// GET /v1/runs/:id/approvals, GET /v1/approvals, POST /v1/runs/:id/approvals/:approvalId/approve|reject,
// GET /v1/usage, GET /v1/run-counts, GET /v1/tools, POST|GET|DELETE /v1/session (the console's sign-in),
// POST /v1/runs/:id/fork, POST /v1/runs/:id/replay, GET|POST|DELETE /v1/memories, POST /v1/memories/search,
// GET|DELETE /v1/memories/:id.

/** API key roles; every route names the one it needs (admin implies every other). */
export const ApiRole = z.enum(['submit', 'read', 'approve', 'admin']);
export type ApiRole = z.infer<typeof ApiRole>;

/** 202 answer to POST /v1/runs. `created` is false when the runId or Idempotency-Key was seen before. */
export const SubmitRunResponse = z.object({ runId: z.string(), created: z.boolean(), url: z.string() });
export type SubmitRunResponse = z.infer<typeof SubmitRunResponse>;

export const ListRunsQuery = z.object({
  status: RunStatus.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  /** Opaque cursor from the previous page's `nextCursor`. */
  cursor: z.string().optional(),
  /** Runs whose id or goal contains this text (case-insensitive). */
  q: z.string().trim().min(1).max(200).optional(),
});
export type ListRunsQuery = z.infer<typeof ListRunsQuery>;

export const ListRunsResponse = z.object({ runs: z.array(RunRecord), nextCursor: z.string().nullable() });
export type ListRunsResponse = z.infer<typeof ListRunsResponse>;

/** POST /v1/runs/{id}/fork: a new run from the parent's history before `fromIteration`, live from there. */
export const ForkRunRequest = z.strictObject({
  fromIteration: z
    .number()
    .int()
    .min(1)
    .max(100)
    .describe("The first iteration the fork runs live; the parent's earlier ones are copied"),
  model: z.string().min(1).max(200).optional().describe("The fork planner's model (default: the parent's)"),
  budget: Budget.optional().describe("The fork's budget (default: the parent's); only the fork's own spend counts"),
  goal: z.string().trim().min(1).max(MAX_GOAL_CHARS).optional().describe("The fork's goal (default: the parent's)"),
});
export type ForkRunRequest = z.infer<typeof ForkRunRequest>;

/** POST /v1/runs/{id}/replay: play an ended run's recording again. */
export const ReplayRunRequest = z.strictObject({
  liveModel: z.boolean().default(false).describe('Ask the model again instead of playing its recorded replies'),
  toolsLive: z
    .boolean()
    .default(true)
    .describe('With liveModel: a tool call the recording does not hold runs live (false: it is refused)'),
  model: z.string().min(1).max(200).optional().describe("With liveModel: the planner's model (default: the parent's)"),
});
export type ReplayRunRequest = z.infer<typeof ReplayRunRequest>;

const count = z.number().int().nonnegative();

/** GET /v1/run-counts: how many of the tenant's runs are in each status (at most a few seconds old). */
export const RunCountsResponse = z.object({
  total: z.number().int().nonnegative(),
  counts: z.object({ running: count, succeeded: count, failed: count, cancelled: count, budget_exceeded: count }),
});
export type RunCountsResponse = z.infer<typeof RunCountsResponse>;

/** GET /v1/tools: the tools the executors publish, with the JSON schema of their arguments. */
export const ToolsResponse = z.object({ tools: z.array(ToolSpec) });
export type ToolsResponse = z.infer<typeof ToolsResponse>;

/** POST /v1/session: trade an API key for a browser session cookie (HttpOnly, SameSite=Strict, no Max-Age). */
export const SessionRequest = z.strictObject({ apiKey: z.string().min(1).max(1024) });
/** The caller of a session (or of a key): what the console offers follows its roles. */
export const SessionResponse = z.object({
  name: z.string(),
  roles: z.array(ApiRole),
  tenant: z.string(),
  /** Whether the gateway checks API keys at all (without keys every caller is an anonymous admin). */
  keysRequired: z.boolean(),
  /** Base URL of a Jaeger UI to link traces to (TRIAD_JAEGER_URL), or null. */
  jaegerUrl: z.string().nullable(),
});
export type SessionResponse = z.infer<typeof SessionResponse>;

export const CancelRunRequest = z.strictObject({ reason: z.string().max(2000).optional() });
export const CancelRunResponse = z.object({ runId: z.string(), cancelled: z.boolean(), status: RunStatus });
export type CancelRunResponse = z.infer<typeof CancelRunResponse>;

/** Approve as asked, or with edited arguments (a JSON object, or its text), which the tool validates again. */
export const ApproveRequest = z.strictObject({
  arguments: z
    .union([z.record(z.string(), z.unknown()), z.string()])
    .nullable()
    .optional(),
});
export const RejectRequest = z.strictObject({ reason: z.string().min(1).max(2000) });
export const ApprovalsResponse = z.object({ approvals: z.array(ApprovalRecord) });
export type ApprovalsResponse = z.infer<typeof ApprovalsResponse>;
export const ApprovalResponse = z.object({ approval: ApprovalRecord });

export const UsageQuery = z.object({
  /** How many UTC days, today first. */
  days: z.coerce.number().int().min(1).max(7).default(7),
});
export type UsageQuery = z.infer<typeof UsageQuery>;

/** The spend caps of a tenant (TRIAD_TENANT_LIMITS); null: none. */
export const UsageLimits = z.object({
  maxCostUsdPerDay: z.number().nullable(),
  maxTokensPerDay: z.number().int().nullable(),
});

/** GET /v1/usage: a tenant's model spend, tokens and runs started, per UTC day, today first. */
export const UsageResponse = z.object({
  tenant: z.string(),
  days: z.array(
    z.object({
      /** YYYY-MM-DD (UTC). */
      day: z.string(),
      costUsd: z.number().nonnegative(),
      tokens: z.number().int().nonnegative(),
      modelCalls: z.number().int().nonnegative(),
      runs: z.number().int().nonnegative(),
      limits: UsageLimits,
    }),
  ),
});
export type UsageResponse = z.infer<typeof UsageResponse>;

/** GET /v1/memories: the tenant's memories, newest first, filtered. Tags are comma-separated (every one must match). */
export const ListMemoriesQuery = z.object({
  kind: MemoryKind.optional(),
  tags: z
    .string()
    .optional()
    .transform((s) => (s === undefined ? undefined : s.split(',').filter(Boolean)))
    .pipe(z.array(MemoryTag).max(MAX_MEMORY_TAGS).optional())
    .describe('Only entries carrying every one of these tags (comma-separated)'),
  sourceRunId: RunId.optional().describe('Only entries this run wrote'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: MemoryId.optional().describe("The previous page's `nextCursor`"),
});
export type ListMemoriesQuery = z.infer<typeof ListMemoriesQuery>;

export const ListMemoriesResponse = z.object({ memories: z.array(MemoryEntry), nextCursor: z.string().nullable() });
export type ListMemoriesResponse = z.infer<typeof ListMemoriesResponse>;

/** 201 answer to POST /v1/memories: the stored entry, or the near-identical one refreshed instead (`duplicate`). */
export const CreateMemoryResponse = z.object({ memory: MemoryEntry, duplicate: z.boolean() });
export type CreateMemoryResponse = z.infer<typeof CreateMemoryResponse>;

/** POST /v1/memories/search: the closest entries, closest first. */
export const SearchMemoriesResponse = z.object({ matches: z.array(MemoryMatch) });
export type SearchMemoriesResponse = z.infer<typeof SearchMemoriesResponse>;

/** DELETE /v1/memories?sourceRunId=: removes every memory a run wrote (its lessons, its memorize calls). */
export const DeleteMemoriesQuery = z.object({ sourceRunId: RunId.describe('The run whose memories to remove') });
export const DeleteMemoriesResponse = z.object({ deleted: z.number().int().nonnegative() });
export type DeleteMemoriesResponse = z.infer<typeof DeleteMemoriesResponse>;

/** Every error answer: a stable code, a message, and for validation errors the path of each bad field. */
export const ApiError = z.object({
  error: z.object({
    code: z.enum([
      'invalid_request',
      'unauthorized',
      'forbidden',
      'not_found',
      'conflict',
      'payload_too_large',
      'unsupported_media_type',
      'too_many_requests',
      'internal',
      'service_unavailable',
    ]),
    message: z.string(),
    issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  }),
});
export type ApiError = z.infer<typeof ApiError>;
