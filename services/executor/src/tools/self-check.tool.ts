import { z } from 'zod';
import { defineTool, type ToolDefinition, ToolFailure } from './tool.js';

/** A reviewer's opinion of a draft answer against the run's goal. */
export interface SelfCheckVerdict {
  verdict: 'accept' | 'revise';
  critique: string;
}

/** Reviews `draft` against `goal` (the executor wires this to the judge model). */
export type SelfCheckReview = (goal: string, draft: string, signal: AbortSignal) => Promise<SelfCheckVerdict>;

/** Largest draft self_check accepts, in characters. */
export const MAX_DRAFT_CHARS = 32_000;

/** The self_check tool: an independent review of a draft answer before the model proposes it. */
export function selfCheckTool(review: SelfCheckReview): ToolDefinition {
  return defineTool({
    name: 'self_check',
    description:
      'Before proposing your final answer, pass the draft here: a reviewer checks it against the goal and ' +
      'replies "accept" or "revise" with a critique. On "revise", fix what the critique names (gather more ' +
      'facts if needed) before answering.',
    input: z.object({
      draft: z
        .string()
        .min(1)
        .max(MAX_DRAFT_CHARS)
        .describe(`The draft answer (at most ${MAX_DRAFT_CHARS} characters)`),
    }),
    output: z.object({ verdict: z.enum(['accept', 'revise']), critique: z.string() }),
    risk: 'read',
    async run({ draft }, { goal, signal }) {
      try {
        const { verdict, critique } = await review(goal, draft, signal);
        return { verdict, critique };
      } catch (err) {
        if (signal.aborted) throw err;
        // The reviewer (a model call) failing says nothing about the draft; another try may well work.
        throw new ToolFailure(`The review could not be made: ${(err as Error).message ?? String(err)}`, {
          retryable: true,
          cause: err,
        });
      }
    },
  });
}
