import { z } from 'zod';
import { ApprovalWebhookJob } from './approval-webhook.js';
import { ForkOf, GoalRequest } from './goal-request.js';
import { RunOutput } from './output-schema.js';
import { JOB_NAMES, type JobName, QUEUES, type QueueName } from './queues.js';
import { StoreRunId, TenantId } from './run-id.js';
import { RunError, TerminalStatus, Usage } from './run-record.js';

/** Payloads carry ids only (a run's store id: see run-id.ts); the state lives in the run store. */
export const PlanJob = z.strictObject({ runId: StoreRunId, iteration: z.number().int().min(1) });
export type PlanJob = z.infer<typeof PlanJob>;

export const ActJob = z.strictObject({
  runId: StoreRunId,
  iteration: z.number().int().min(1),
  stepId: z.string().regex(/^[0-9]+-[0-9]+$/),
});
export type ActJob = z.infer<typeof ActJob>;

/** `observe`: the fan-in after the iteration's tool calls; `answer`: the planner proposed a final answer. */
export const JudgeJob = z.strictObject({
  runId: StoreRunId,
  iteration: z.number().int().min(1),
  kind: z.enum(['observe', 'answer']),
});
export type JudgeJob = z.infer<typeof JudgeJob>;

/** Sent to `results` when a run ends, for the systems that started it. */
export const RunFinished = z.object({
  /** The run id the caller gave (or was given), as in the API. */
  runId: z.string(),
  tenant: TenantId,
  status: TerminalStatus,
  answer: z.string().nullable(),
  /** The typed result, valid against the goal's outputSchema (null without one, or when the run did not succeed). */
  output: RunOutput.nullable().default(null),
  error: RunError.nullable(),
  iterations: z.number().int(),
  usage: Usage,
  createdAt: z.number().int(),
  finishedAt: z.number().int(),
  durationMs: z.number().int().nonnegative(),
  metadata: z.record(z.string(), z.string()),
  /** Set on a fork: the parent run and the first iteration the fork ran live. */
  forkOf: ForkOf.optional(),
  /** Set on a replay: the recorded run. */
  replayOf: z.object({ runId: z.string() }).optional(),
});
export type RunFinished = z.infer<typeof RunFinished>;

/** Delivers a run's result to the `callbackUrl` of its goal (signed webhook); the run is read from the store. */
export const WebhookJob = z.strictObject({ runId: StoreRunId });
export type WebhookJob = z.infer<typeof WebhookJob>;

/** Writes an ended run to the archive (PostgreSQL), then lets its Redis data expire; the run is read from the store. */
export const ArchiveJob = z.strictObject({ runId: StoreRunId });
export type ArchiveJob = z.infer<typeof ArchiveJob>;

/**
 * Distils lessons from an ended run into its tenant's semantic memory (the judge, on the `judge` queue, after every
 * waiting stage of a live run); the run and its events are read from the store.
 */
export const DistillJob = z.strictObject({ runId: StoreRunId });
export type DistillJob = z.infer<typeof DistillJob>;

/** Every job Triad knows, keyed by name: its queue and payload schema. */
export const JOBS = {
  [JOB_NAMES.goal]: { queue: QUEUES.goals, schema: GoalRequest },
  [JOB_NAMES.plan]: { queue: QUEUES.plan, schema: PlanJob },
  [JOB_NAMES.act]: { queue: QUEUES.act, schema: ActJob },
  [JOB_NAMES.judge]: { queue: QUEUES.judge, schema: JudgeJob },
  [JOB_NAMES.runFinished]: { queue: QUEUES.results, schema: RunFinished },
  [JOB_NAMES.webhook]: { queue: QUEUES.webhooks, schema: WebhookJob },
  [JOB_NAMES.approvalWebhook]: { queue: QUEUES.webhooks, schema: ApprovalWebhookJob },
  [JOB_NAMES.archive]: { queue: QUEUES.archive, schema: ArchiveJob },
  [JOB_NAMES.distill]: { queue: QUEUES.judge, schema: DistillJob },
} as const satisfies Record<JobName, { queue: QueueName; schema: z.ZodType }>;

export type JobData<N extends JobName> = z.infer<(typeof JOBS)[N]['schema']>;

/** Deterministic job ids: a duplicate add of the same step is dropped by BullMQ itself. */
export const jobIds = {
  plan: (runId: string, iteration: number) => `plan-${runId}-${iteration}`,
  act: (runId: string, stepId: string) => `act-${runId}-${stepId}`,
  judge: (runId: string, iteration: number) => `judge-${runId}-${iteration}`,
  runFinished: (runId: string) => `finished-${runId}`,
  webhook: (runId: string) => `webhook-${runId}`,
  /** One per gate transition: `approval-<run>-<step>-requested` / `-decided`. */
  approvalWebhook: (runId: string, stepId: string, event: 'approval.requested' | 'approval.decided') =>
    `approval-${runId}-${stepId}-${event.slice('approval.'.length)}`,
  goal: (runId: string) => `goal-${runId}`,
  archive: (runId: string) => `archive-${runId}`,
  /** One per run: a redelivered ending enqueues its distillation once. */
  distill: (runId: string) => `distill-${runId}`,
};

/** The step id of the i-th tool call of an iteration. */
export const stepIdOf = (iteration: number, index: number) => `${iteration}-${index}`;
