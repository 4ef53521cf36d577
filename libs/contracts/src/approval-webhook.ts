import { z } from 'zod';
import { ApprovalStatus } from './approval.js';
import { StoreRunId, TenantId } from './run-id.js';
import { ToolRisk } from './tool-spec.js';

/** The two approval push events (`Triad-Event` header and the payload's `event`). */
export const ApprovalWebhookEvent = z.enum(['approval.requested', 'approval.decided']);
export type ApprovalWebhookEvent = z.infer<typeof ApprovalWebhookEvent>;

/** Delivers one gate transition to TRIAD_APPROVAL_WEBHOOK_URL; the gate is read from the store. */
export const ApprovalWebhookJob = z.strictObject({
  runId: StoreRunId,
  stepId: z.string().regex(/^[0-9]+-[0-9]+$/),
  event: ApprovalWebhookEvent,
});
export type ApprovalWebhookJob = z.infer<typeof ApprovalWebhookJob>;

/**
 * The body of an approval push: the gate as an approver needs it to decide (arguments redacted as in run events),
 * and, for `approval.decided`, the decision. `approval.requested` always carries the gate as it was opened (decision
 * fields null), whenever it is delivered.
 */
export const ApprovalWebhookPayload = z.object({
  event: ApprovalWebhookEvent,
  /** The run id the caller gave, as in the API. */
  runId: z.string(),
  tenant: TenantId,
  /** The id to approve or reject with (`POST /v1/runs/:runId/approvals/:approvalId/approve`). */
  approvalId: z.string(),
  stepId: z.string(),
  iteration: z.number().int(),
  tool: z.string(),
  risk: ToolRisk,
  /** The call's JSON arguments, secret ones `[redacted]`. */
  arguments: z.string(),
  argumentsHash: z.string(),
  requestedBy: z.string(),
  requestedAt: z.number().int(),
  expiresAt: z.number().int(),
  /** `approved`, `rejected` or `expired` (nobody decided before `expiresAt`); null in `approval.requested`. */
  decision: ApprovalStatus.exclude(['pending']).nullable(),
  decidedBy: z.string().nullable(),
  decidedAt: z.number().int().nullable(),
  reason: z.string().nullable(),
  /** Arguments the approver replaced the model's with (secret ones `[redacted]`), or null. */
  editedArguments: z.string().nullable(),
  /** The run in the web console: `<TRIAD_CONSOLE_URL>/runs/<runId>`. */
  consoleUrl: z.string(),
});
export type ApprovalWebhookPayload = z.infer<typeof ApprovalWebhookPayload>;

/** The run's once-key under which an approval push's outcome is recorded, so a redelivery posts nothing. */
export const approvalWebhookOnceKey = (stepId: string, event: ApprovalWebhookEvent) =>
  `approval-webhook:${stepId}:${event}`;
