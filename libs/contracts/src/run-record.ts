import { z } from 'zod';
import { ForkOf, GoalRequest } from './goal-request.js';
import { RunOutput } from './output-schema.js';
import { StoreRunId, splitStoreRunId, TenantId } from './run-id.js';

export const RUN_SCHEMA_VERSION = 1;

export const RunStatus = z.enum(['running', 'succeeded', 'failed', 'cancelled', 'budget_exceeded']);
export type RunStatus = z.infer<typeof RunStatus>;
export const TerminalStatus = RunStatus.exclude(['running']);
export type TerminalStatus = z.infer<typeof TerminalStatus>;
export const isTerminal = (s: RunStatus): s is TerminalStatus => s !== 'running';

/**
 * Where the run is inside its current iteration; (iteration, phase) is what compare-and-set guards. `queued`: a run of
 * a tenant at its maxRunsInFlight waits for a slot (iteration 1) and moves to `plan` when it is given one.
 */
export const RunPhase = z.enum(['queued', 'plan', 'act', 'judge', 'done']);
export type RunPhase = z.infer<typeof RunPhase>;

export const Usage = z.object({
  inputTokens: z.number().int().nonnegative(),
  outputTokens: z.number().int().nonnegative(),
  modelCalls: z.number().int().nonnegative(),
  toolCalls: z.number().int().nonnegative(),
  /** Model cost in USD, for models with a price in TRIAD_MODEL_PRICES; 0 when none has one. */
  costUsd: z.number().nonnegative().default(0),
});
export type Usage = z.infer<typeof Usage>;
export const emptyUsage = (): Usage => ({ inputTokens: 0, outputTokens: 0, modelCalls: 0, toolCalls: 0, costUsd: 0 });

export const RunErrorCode = z.enum([
  'invalid_goal',
  /** A goal of a tenant past a daily spend cap (TRIAD_TENANT_LIMITS), refused at intake. */
  'tenant_limit',
  'model_error',
  'bad_model_reply',
  'model_refused',
  'answer_rejected',
  /** The goal asked for an outputSchema and no answer of the run was valid against it. */
  'output_invalid',
  'internal_error',
  'budget_exceeded',
  'cancelled',
  /** A replay whose recording does not hold what the run asked for (a reply of the model). */
  'not_recorded',
]);
export type RunErrorCode = z.infer<typeof RunErrorCode>;
export const RunError = z.object({ code: RunErrorCode, message: z.string() });
export type RunError = z.infer<typeof RunError>;

/** The run record: the one source of truth for a run's state, stamped with a schema version. */
export const RunRecord = z.object({
  schemaVersion: z.literal(RUN_SCHEMA_VERSION),
  /**
   * The run id. What the API, results and webhooks show is the caller's; inside Triad (store, jobs) a run outside the
   * default tenant is known by its store id `<tenant>~<run id>` (see run-id.ts).
   */
  id: StoreRunId,
  /** The tenant the run belongs to (also encoded in its id). */
  tenant: TenantId,
  status: RunStatus,
  phase: RunPhase,
  iteration: z.number().int().min(1),
  // null only for a goal rejected at intake, whose data did not parse
  request: GoalRequest.nullable(),
  usage: Usage,
  createdAt: z.number().int(),
  updatedAt: z.number().int(),
  finishedAt: z.number().int().nullable(),
  answer: z.string().nullable(),
  /** The typed result (the answer parsed), for a goal with an outputSchema that succeeded; else null or absent. */
  output: RunOutput.nullable().optional(),
  error: RunError.nullable(),
  /** W3C traceparent of the run's `invoke_workflow` span: every later span of the run joins this trace. */
  traceparent: z.string().optional(),
  /** The run this one was forked from, and the first iteration it ran live (from its request). */
  forkOf: ForkOf.optional(),
  /** The recorded run this one replays (from its request). */
  replayOf: z.object({ runId: z.string() }).optional(),
  /** Present (true) when the record was read from the archive: its data has left Redis (TRIAD_RUN_RETENTION). */
  archived: z.literal(true).optional(),
});
export type RunRecord = z.infer<typeof RunRecord>;

/** A run record as its tenant's callers see it: the run id they gave, not the store id. */
export function runView(run: RunRecord): RunRecord {
  return { ...run, id: splitStoreRunId(run.id).runId };
}
