import { z } from 'zod';
import { ApprovalStatus } from './approval.js';
import { GoalRequest } from './goal-request.js';
import { MemoryId, RecalledLesson } from './memory.js';
import { Observation } from './observation.js';
import { RunError, RunStatus } from './run-record.js';
import { ToolRisk } from './tool-spec.js';
import { WebhookFailureCode } from './webhook-outcome.js';

const base = { iteration: z.number().int().min(0), at: z.number().int() };

/**
 * Every entry of a run's append-only event stream: the thought log. Stages of the loop:
 * interpret / plan (thought), act (tool.called), observe (observation), reflect (reflection, verdict).
 */
export const RunEvent = z.discriminatedUnion('type', [
  z.object({ ...base, type: z.literal('goal.received'), request: GoalRequest }),
  z.object({ ...base, type: z.literal('goal.rejected'), error: RunError }),
  z.object({
    ...base,
    type: z.literal('thought'),
    stage: z.enum(['interpret', 'plan']),
    text: z.string(),
    model: z.string(),
    inputTokens: z.number().int(),
    outputTokens: z.number().int(),
  }),
  z.object({
    ...base,
    type: z.literal('tool.called'),
    stepId: z.string(),
    callId: z.string(),
    tool: z.string(),
    arguments: z.string(),
  }),
  z.object({
    ...base,
    type: z.literal('observation'),
    stepId: z.string(),
    callId: z.string(),
    tool: z.string(),
    executor: z.string(),
    durationMs: z.number(),
    observation: Observation,
  }),
  z.object({ ...base, type: z.literal('answer.proposed'), answer: z.string() }),
  z.object({
    ...base,
    type: z.literal('reflection'),
    text: z.string(),
    checks: z.array(z.string()),
    model: z.string().nullable(),
  }),
  z.object({
    ...base,
    type: z.literal('verdict'),
    decision: z.enum(['continue', 'accept', 'reject', 'stop']),
    reason: z.string(),
  }),
  z.object({
    ...base,
    type: z.literal('approval.requested'),
    approvalId: z.string(),
    stepId: z.string(),
    tool: z.string(),
    risk: ToolRisk,
    arguments: z.string(),
    argumentsHash: z.string(),
    expiresAt: z.number().int(),
  }),
  z.object({
    ...base,
    type: z.literal('approval.decided'),
    approvalId: z.string(),
    stepId: z.string(),
    status: ApprovalStatus.exclude(['pending']),
    by: z.string(),
    reason: z.string().nullable(),
    edited: z.boolean(),
  }),
  z.object({
    ...base,
    type: z.literal('webhook.delivered'),
    url: z.string(),
    attempts: z.number().int(),
    status: z.number().int(),
  }),
  z.object({
    ...base,
    type: z.literal('webhook.failed'),
    url: z.string(),
    attempts: z.number().int(),
    // Absent on events recorded before codes existed.
    code: WebhookFailureCode.optional(),
    error: z.string(),
  }),
  /** The run's tenant had maxRunsInFlight runs in flight: the run waits for a slot (phase `queued`). */
  z.object({ ...base, type: z.literal('run.queued'), priority: z.number().int(), maxRunsInFlight: z.number().int() }),
  /** A waiting run was given a slot: it starts (phase `plan`) after waiting `waitedMs`. */
  z.object({ ...base, type: z.literal('run.admitted'), waitedMs: z.number().int().nonnegative() }),
  /** The planner gave its first request these lessons of past runs, closest to the goal first (as context). */
  z.object({ ...base, type: z.literal('memory.recalled'), lessons: z.array(RecalledLesson) }),
  /** The judge distilled these lessons from the finished run and stored them with the run as source. */
  z.object({
    ...base,
    type: z.literal('memory.learned'),
    lessons: z.array(z.object({ id: MemoryId, text: z.string(), untrusted: z.boolean() })),
    /** Lessons the model proposed that were already known (a near-duplicate was refreshed instead). */
    duplicates: z.number().int().nonnegative(),
    tokens: z.number().int().nonnegative(),
  }),
  z.object({
    ...base,
    type: z.literal('status.changed'),
    from: RunStatus.nullable(),
    to: RunStatus,
    reason: z.string().nullable(),
  }),
]);
export type RunEvent = z.infer<typeof RunEvent>;
export type RunEventType = RunEvent['type'];
/** An event as read back from the stream, with its stream id (the SSE event id). */
export type StoredRunEvent = RunEvent & { id: string };
