import type { RunEvent } from '@triad/contracts';
import { z } from 'zod';
import { BadModelReplyError } from '../errors/triad-error.js';
import type { ChatMessage, ChatReply, ReasoningModel } from './chat.js';

// The judge's rubric for a proposed answer. It lives here because two roles apply it: the judge, to accept or send
// back a final answer, and the executor's `self_check` tool, which lets the planner check a draft first.

const EVIDENCE_CHARS = 2_000;

export const AnswerReview = z.strictObject({ verdict: z.enum(['accept', 'revise']), critique: z.string() });
export type AnswerReview = z.infer<typeof AnswerReview>;

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

/** Parses a judge-style JSON reply against its schema; anything else is a bad model reply. */
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

/** Asks the model to accept a proposed answer to `goal`, or to send it back with a specific critique (events: the evidence, when known). */
export async function reviewAnswer(
  model: ReasoningModel,
  modelName: string,
  req: { goal: string; answer: string; events: RunEvent[] | null; signal?: AbortSignal },
): Promise<{ review: AnswerReview; reply: ChatReply }> {
  const messages: ChatMessage[] = [
    { role: 'system', content: JUDGE_SYSTEM_PROMPT },
    {
      role: 'user',
      content: `Goal:\n${req.goal}\n\nEvidence:\n${req.events ? evidence(req.events) : '(not available to this check: judge the draft on its own terms)'}\n\nProposed answer:\n${req.answer}\n\nAccept the answer, or ask for a revision with a specific critique.`,
    },
  ];
  const reply = await model.chat({
    model: modelName,
    messages,
    jsonSchema: { name: 'answer_review', schema: z.toJSONSchema(AnswerReview) },
    signal: req.signal,
  });
  return { review: parseReview(AnswerReview, reply.content), reply };
}
