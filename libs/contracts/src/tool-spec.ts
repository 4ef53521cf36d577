import { z } from 'zod';

export const ToolRisk = z.enum(['read', 'write', 'irreversible']);
export type ToolRisk = z.infer<typeof ToolRisk>;

/** A tool as the planner sees it: what executors publish to the catalog. */
export const ToolSpec = z.object({
  name: z.string().regex(/^[a-z][a-z0-9_]{0,63}$/),
  description: z.string(),
  risk: ToolRisk,
  parameters: z.record(z.string(), z.unknown()),
  /** False for schemas Triad did not write (MCP tools): OpenAI strict mode would refuse many of them. */
  strict: z.boolean().default(true),
  /** Top-level arguments marked secret: redacted from run events, approval records and traces. */
  secretArguments: z.array(z.string()).default([]),
});
export type ToolSpec = z.infer<typeof ToolSpec>;
