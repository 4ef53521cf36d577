import { z } from 'zod';
import { splitStoreRunId } from './run-id.js';
import { ToolRisk } from './tool-spec.js';

export const ApprovalStatus = z.enum(['pending', 'approved', 'rejected', 'expired']);
export type ApprovalStatus = z.infer<typeof ApprovalStatus>;

/** A gated tool call waiting for (or answered by) a human. Its id is `<stepId>.<random>`: not guessable. */
export const ApprovalRecord = z.object({
  id: z.string(),
  runId: z.string(),
  iteration: z.number().int(),
  stepId: z.string(),
  callId: z.string(),
  tool: z.string(),
  risk: ToolRisk,
  arguments: z.string(),
  /** sha256 of the arguments the model asked for: what the human saw is what was approved. */
  argumentsHash: z.string(),
  requestedBy: z.string(),
  requestedAt: z.number().int(),
  expiresAt: z.number().int(),
  status: ApprovalStatus,
  decidedBy: z.string().nullable(),
  decidedAt: z.number().int().nullable(),
  reason: z.string().nullable(),
  /** Arguments the approver replaced the model's with; validated again by the tool before it runs. */
  editedArguments: z.string().nullable(),
});
export type ApprovalRecord = z.infer<typeof ApprovalRecord>;

/** An approval as its tenant's callers see it: the run id they gave, not the run's store id. */
export function approvalView(a: ApprovalRecord): ApprovalRecord {
  return { ...a, runId: splitStoreRunId(a.runId).runId };
}

/** A human decision on a pending approval. */
export const ApprovalDecision = z.discriminatedUnion('decision', [
  z.object({
    decision: z.literal('approve'),
    by: z.string().min(1).max(200),
    arguments: z.string().nullable().default(null),
  }),
  z.object({
    decision: z.literal('reject'),
    by: z.string().min(1).max(200),
    reason: z.string().max(2000).default('rejected'),
  }),
]);
export type ApprovalDecision = z.input<typeof ApprovalDecision>;
