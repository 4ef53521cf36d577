import { z } from 'zod';
import { ApprovalRecord } from './approval.js';
import { Budget, MAX_GOAL_CHARS } from './goal-request.js';
import { RunRecord, RunStatus } from './run-record.js';

// The HTTP API of the gateway (v1), shared by the gateway and the client library so both ends parse the same shapes.
// Routes: POST /v1/runs, GET /v1/runs, GET /v1/runs/:id, GET /v1/runs/:id/events (SSE), POST /v1/runs/:id/cancel,
// GET /v1/runs/:id/approvals, GET /v1/approvals, POST /v1/runs/:id/approvals/:approvalId/approve|reject,
// POST /v1/runs/:id/fork, POST /v1/runs/:id/replay, GET /v1/usage.

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
