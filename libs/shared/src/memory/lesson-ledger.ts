import { RecalledLesson, type RunEvent } from '@triad/contracts';
import { z } from 'zod';

// What a run's ledger (its `once` hash) records of long-term memory, so a redelivered stage repeats nothing.

/** The lessons the planner chose for the run's first plan (possibly none): recorded once, searched once. */
export const RECALLED_LESSONS = 'memory:recall';
export const RecalledLessons = z.array(RecalledLesson);

/** What the judge distilled from the ended run (the ids it stored): recorded once, with the `memory.learned` event. */
export const LEARNED_LESSONS = 'memory:learned';
export const LearnedLessons = z.strictObject({
  ids: z.array(z.string()),
  duplicates: z.number().int().nonnegative(),
  tokens: z.number().int().nonnegative(),
});
export type LearnedLessons = z.infer<typeof LearnedLessons>;

/** The lessons a run was given, from its `memory.recalled` event (none when it has none). */
export function recalledLessons(events: readonly RunEvent[]): RecalledLesson[] {
  const event = events.find((e) => e.type === 'memory.recalled');
  return event?.type === 'memory.recalled' ? event.lessons : [];
}
