import { z } from 'zod';

/** Stable error codes of a tool outcome; the model sees these, so they never change meaning. */
export const ToolErrorCode = z.enum([
  'unknown_tool',
  'invalid_arguments',
  'timeout',
  'tool_error',
  'invalid_output',
  'rejected',
  'approval_expired',
  'cancelled',
  'budget_exceeded',
  'tool_not_allowed',
  'too_many_calls',
  /** A replay that may not run tools live met a call its recording does not hold. */
  'not_recorded',
]);
export type ToolErrorCode = z.infer<typeof ToolErrorCode>;

export const ToolError = z.object({
  code: ToolErrorCode,
  message: z.string(),
  retryable: z.boolean(),
});
export type ToolError = z.infer<typeof ToolError>;

/** The one shape every tool outcome takes: `{ ok, data | error }`. */
export const Observation = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), data: z.unknown() }),
  z.object({ ok: z.literal(false), error: ToolError }),
]);
export type Observation = z.infer<typeof Observation>;

export const observationOk = (data: unknown): Observation => ({ ok: true, data });
export const observationError = (code: ToolErrorCode, message: string, retryable = false): Observation => ({
  ok: false,
  error: { code, message, retryable },
});
