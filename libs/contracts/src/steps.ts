import { z } from 'zod';
import { Observation } from './observation.js';
import { RunOutput } from './output-schema.js';
import { RunErrorCode, TerminalStatus } from './run-record.js';

/** One tool call the planner asked for; `arguments` is the model's raw JSON text, validated by the executor. */
export const ToolCall = z.object({
  stepId: z.string(),
  callId: z.string(),
  tool: z.string(),
  arguments: z.string(),
});
export type ToolCall = z.infer<typeof ToolCall>;

/** What the planner decided in one iteration; stored once per (run, iteration), so a redelivery reuses it. */
export const PlanDecision = z.object({
  iteration: z.number().int().min(1),
  model: z.string(),
  thought: z.string().nullable(),
  toolCalls: z.array(ToolCall),
  answer: z.string().nullable(),
  inputTokens: z.number().int().nonnegative(),
  outputTokens: z.number().int().nonnegative(),
});
export type PlanDecision = z.infer<typeof PlanDecision>;

/** The ledger entry of one step: recorded before the act job completes; a retry returns it. */
export const StepResult = z.object({
  stepId: z.string(),
  callId: z.string(),
  tool: z.string(),
  executor: z.string(),
  durationMs: z.number().nonnegative(),
  observation: Observation,
});
export type StepResult = z.infer<typeof StepResult>;

/** A model's reply as recorded in the ledger, so a replay can play it instead of asking the model. */
export const RecordedReply = z.object({
  model: z.string(),
  content: z.string().nullable(),
  inputTokens: z.number().int().nonnegative(),
  outputTokens: z.number().int().nonnegative(),
});
export type RecordedReply = z.infer<typeof RecordedReply>;

/** The judge's decision for one iteration; stored once, then acted on. `review`: the judge model's reply, if asked. */
export const Verdict = z.discriminatedUnion('next', [
  z.object({
    next: z.literal('plan'),
    critique: z.string().nullable(),
    checks: z.array(z.string()),
    review: RecordedReply.optional(),
  }),
  z.object({
    next: z.literal('finish'),
    status: TerminalStatus,
    answer: z.string().nullable(),
    /** The accepted answer as a typed result (a goal with an outputSchema). */
    output: RunOutput.nullable().optional(),
    /** The error code of a run that did not succeed, when it is not the status's usual one. */
    code: RunErrorCode.optional(),
    reason: z.string(),
    checks: z.array(z.string()),
    review: RecordedReply.optional(),
  }),
]);
export type Verdict = z.infer<typeof Verdict>;
