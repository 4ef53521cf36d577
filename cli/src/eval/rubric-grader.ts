import { type ChatReply, parseReview, type ReasoningModel } from '@triad/shared';
import { z } from 'zod';

/** The grader's reply: whether the answer meets the rubric, and why. */
export const RubricGrade = z.strictObject({ pass: z.boolean(), reason: z.string() });
export type RubricGrade = z.infer<typeof RubricGrade>;

const SYSTEM = [
  'You grade the final answer of an AI agent run against a rubric written by its operators.',
  'Pass it only when the answer meets every point of the rubric. Reply with JSON only, matching the schema you are given.',
].join(' ');

/** Asks the model whether `answer` to `goal` meets `rubric`. */
export async function gradeRubric(
  model: ReasoningModel,
  modelName: string,
  req: { goal: string; answer: string; rubric: string; signal?: AbortSignal },
): Promise<{ grade: RubricGrade; reply: ChatReply }> {
  const reply = await model.chat({
    model: modelName,
    messages: [
      { role: 'system', content: SYSTEM },
      {
        role: 'user',
        content: `Goal:\n${req.goal}\n\nAnswer:\n${req.answer}\n\nRubric:\n${req.rubric}\n\nGrade the answer against the rubric.`,
      },
    ],
    jsonSchema: { name: 'rubric_grade', schema: z.toJSONSchema(RubricGrade) },
    signal: req.signal,
  });
  return { grade: parseReview(RubricGrade, reply.content), reply };
}
