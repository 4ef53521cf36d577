import { type ChatMessage, evidence, JUDGE_SYSTEM_PROMPT, type RunEvent } from '@triad/shared';
import { z } from 'zod';

export const IterationReview = z.strictObject({ critique: z.string() });
export type IterationReview = z.infer<typeof IterationReview>;

/** Messages asking the model to reflect on one iteration's observations and advise the planner. */
export function iterationReviewMessages(goal: string, iteration: number, events: RunEvent[], checks: string[]) {
  const findings = checks.length ? `\n\nAutomatic checks:\n${checks.join('\n')}` : '';
  const messages: ChatMessage[] = [
    { role: 'system', content: JUDGE_SYSTEM_PROMPT },
    {
      role: 'user',
      content: `Goal:\n${goal}\n\nEvidence so far:\n${evidence(events)}${findings}\n\nReflect on iteration ${iteration}: is the planner on track? Give a short critique (empty if none is needed).`,
    },
  ];
  return messages;
}

export const iterationReviewSchema = () => ({ name: 'iteration_review', schema: z.toJSONSchema(IterationReview) });
