import { z } from 'zod';
import { GoalMemory } from './memory.js';
import { OutputSchema } from './output-schema.js';
import { ResultsQueueName } from './results-queue.js';
import { RunId, TenantId } from './run-id.js';
import { ToolRisk } from './tool-spec.js';

export const MAX_GOAL_CHARS = 20_000;

/** Priorities of a goal within its tenant: 1 is the most urgent, 10 the least; a goal without one is `DEFAULT_PRIORITY`. */
export const MIN_PRIORITY = 1;
export const MAX_PRIORITY = 10;
export const DEFAULT_PRIORITY = 5;

export const Budget = z.strictObject({
  maxIterations: z.number().int().min(1).max(100).default(8).describe('Planner iterations before the run ends'),
  maxToolCalls: z.number().int().min(0).max(10_000).default(50).describe('Tool calls over the whole run'),
  maxTokens: z.number().int().min(1).default(200_000).describe('Model tokens (input + output) over the whole run'),
  maxCostUsd: z.number().positive().nullable().default(null).describe('Model cost over the whole run, in USD'),
  timeoutMs: z.number().int().min(1_000).default(600_000).describe('Wall-clock time from intake to the end'),
});
export type Budget = z.infer<typeof Budget>;

/** A run started from another run's history up to an iteration (see POST /v1/runs/{id}/fork). */
export const ForkOf = z.strictObject({
  runId: RunId.describe('The parent run (of the same tenant)'),
  iteration: z
    .number()
    .int()
    .min(1)
    .max(100)
    .describe("The first iteration the fork runs live; the parent's earlier ones are copied"),
});
export type ForkOf = z.infer<typeof ForkOf>;

/** A run that plays another run's recording again (see POST /v1/runs/{id}/replay). */
export const ReplayOf = z.strictObject({
  runId: RunId.describe('The recorded run (of the same tenant)'),
  liveModel: z
    .boolean()
    .default(false)
    .describe(
      'Ask the model again (else its recorded replies are played); tool calls matching the recording get its results',
    ),
  toolsLive: z
    .boolean()
    .default(true)
    .describe('With liveModel: a tool call the recording does not hold runs live (else it is refused, `not_recorded`)'),
});
export type ReplayOf = z.infer<typeof ReplayOf>;

/** What another system sends to start a run: the data of a job named `goal` on the `goals` queue. */
export const GoalRequest = z
  .strictObject({
    goal: z.string().trim().min(1).max(MAX_GOAL_CHARS).describe('What the agents should achieve, in plain language'),
    runId: RunId.optional().describe("The caller's idempotency key: the same runId twice in a tenant makes one run"),
    tenant: TenantId.optional().describe(
      'The tenant the run belongs to (default `default`); the gateway sets it from the API key',
    ),
    priority: z
      .number()
      .int()
      .min(MIN_PRIORITY)
      .max(MAX_PRIORITY)
      .optional()
      .describe(
        `Urgency within the tenant, ${MIN_PRIORITY} (most urgent) to ${MAX_PRIORITY} (least), default ${DEFAULT_PRIORITY}: orders the tenant's waiting runs and every plan, act and judge job of the run`,
      ),
    tools: z
      .array(z.string().min(1).max(64))
      .max(100)
      .optional()
      .describe(
        'Allow-list of tool names, enforced by the executors; absent means every tool the executors offer, [] none',
      ),
    requireApproval: z
      .array(ToolRisk)
      .max(3)
      .optional()
      .describe(
        'Risk levels whose tool calls need a human decision, on top of the server policy (which a goal cannot loosen)',
      ),
    approvalTimeoutMs: z
      .number()
      .int()
      .min(1_000)
      .optional()
      .describe('How long a gated call waits for a decision; can only shorten the server setting'),
    model: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .describe("The planner's model for this run (default: the server's TRIAD_PLANNER_MODEL)"),
    forkOf: ForkOf.optional().describe(
      "Start from the parent run's history before `iteration` (copied, never executed again); the rest runs live",
    ),
    replayOf: ReplayOf.optional().describe(
      'Play the recorded run again: its model replies and tool results, without calling the model or any tool',
    ),
    outputSchema: OutputSchema.optional().describe(
      'Asks for a typed result: the final answer is produced as structured output against this JSON Schema, validated by the judge, and returned as `output` next to `answer`. ' +
        (OutputSchema.description ?? ''),
    ),
    memory: GoalMemory.optional().describe(
      "Long-term memory for this run: recall the tenant's closest lessons at the first plan, learn lessons when it ends (both on by default; the tenant's setting can turn them off)",
    ),
    budget: Budget.prefault({}).describe('Limits; each one omitted takes its default'),
    metadata: z
      .record(z.string().min(1).max(64), z.string().max(1024))
      .refine((m) => Object.keys(m).length <= 50, 'at most 50 entries')
      .optional()
      .describe('Opaque string map, returned with the result'),
    callbackUrl: z
      .url({ protocol: /^https?$/ })
      // Credentials in the URL would be sent to whatever host it names and shown to every reader of the run.
      .refine(
        (u) => !URL.parse(u)?.username && !URL.parse(u)?.password,
        'must not contain credentials (user:password@)',
      )
      .optional()
      .describe(
        'Receives the finished run as a webhook: an http(s) URL without credentials, on a host the server allows',
      ),
    resultsQueue: ResultsQueueName.optional().describe(
      "The caller's own results queue: `run.finished` goes to the BullMQ queue `results.<tenant>.<resultsQueue>` (the run's tenant) instead of the shared `results`",
    ),
  })
  .describe('Triad GoalRequest v1');
export type GoalRequest = z.infer<typeof GoalRequest>;
export type GoalRequestInput = z.input<typeof GoalRequest>;

/** The JSON Schema published in `schemas/goal-request.schema.json` for producers in any language. */
export function goalRequestJsonSchema(): Record<string, unknown> {
  return {
    $id: 'https://triad.dev/schemas/goal-request.schema.json',
    ...z.toJSONSchema(GoalRequest, { io: 'input', target: 'draft-2020-12' }),
    title: 'GoalRequest',
  };
}

/** The priority a goal runs at (see GoalRequest.priority). */
export const priorityOf = (request: Pick<GoalRequest, 'priority'> | null | undefined): number =>
  request?.priority ?? DEFAULT_PRIORITY;
