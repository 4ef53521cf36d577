import { BadModelReplyError, type ChatMessage, type RunEvent } from '@triad/shared';
import { z } from 'zod';

const EVIDENCE_CHARS = 2_000;

export const AnswerReview = z.strictObject({
  verdict: z.enum(['accept', 'revise']),
  critique: z.string(),
});
export type AnswerReview = z.infer<typeof AnswerReview>;

export const IterationReview = z.strictObject({ critique: z.string() });
export type IterationReview = z.infer<typeof IterationReview>;

export const JUDGE_SYSTEM_PROMPT = [
  'You are the judge of Triad, an agent system. You check the work of a planner that calls tools.',
  'Be strict about facts: an answer must follow from the tool observations shown, and must answer the whole goal.',
  'Reply with JSON only, matching the schema you are given.',
].join(' ');

/** The run so far as compact evidence: every tool call with its observation, oldest first. */
export function evidence(events: RunEvent[]): string {
  const lines: string[] = [];
  for (const e of events) {
    if (e.type === 'tool.called') lines.push(`[iteration ${e.iteration}] call ${e.callId}: ${e.tool}(${e.arguments})`);
    if (e.type === 'observation') {
      lines.push(
        `[iteration ${e.iteration}] result ${e.callId}: ${JSON.stringify(e.observation).slice(0, EVIDENCE_CHARS)}`,
      );
    }
  }
  return lines.length ? lines.join('\n') : '(no tool was called)';
}

/** Messages asking the model to accept or send back a proposed answer. */
export function answerReviewMessages(goal: string, answer: string, events: RunEvent[]): ChatMessage[] {
  return [
    { role: 'system', content: JUDGE_SYSTEM_PROMPT },
    {
      role: 'user',
      content: `Goal:\n${goal}\n\nEvidence:\n${evidence(events)}\n\nProposed answer:\n${answer}\n\nAccept the answer, or ask for a revision with a specific critique.`,
    },
  ];
}

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

/** Parses the judge model's JSON reply against its schema; anything else is a bad model reply. */
export function parseReview<S extends z.ZodType>(schema: S, content: string | null): z.infer<S> {
  let json: unknown;
  try {
    json = JSON.parse(content ?? '');
  } catch {
    throw new BadModelReplyError(`judge model reply is not JSON: ${(content ?? '(empty)').slice(0, 200)}`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success)
    throw new BadModelReplyError(`judge model reply does not match its schema: ${parsed.error.message}`);
  return parsed.data;
}

export const answerReviewSchema = () => ({ name: 'answer_review', schema: z.toJSONSchema(AnswerReview) });
export const iterationReviewSchema = () => ({ name: 'iteration_review', schema: z.toJSONSchema(IterationReview) });
