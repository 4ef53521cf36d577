import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  MAX_MEMORY_TEXT_CHARS,
  type PlanView,
  RECALLED_LESSONS,
  RECORDING_PREFIX,
  type RecalledLesson,
  RecalledLessons,
  RunStore,
  recallEnabled,
  recalledLessons,
  SEMANTIC_MEMORY,
  type SemanticMemory,
  splitStoreRunId,
  TRIAD_CONFIG,
  type TriadConfig,
} from '@triad/shared';

/** Lessons given to a run's first plan at most. */
export const RECALL_K = 3;
/**
 * The least cosine similarity between a lesson and the goal for the lesson to be given: below it a lesson is about
 * something else (unrelated texts score about 0 to 0.2 with common embedding models, related ones well above 0.3).
 */
export const MIN_LESSON_SCORE = 0.35;

/**
 * Recall at the first plan: the tenant's lessons closest in meaning to the goal, chosen once per run. The choice is
 * recorded in the run's ledger (a redelivered plan uses the same lessons and asks for no second embedding) with a
 * `memory.recalled` event when there are any; every later plan request finds them in that event. A fork that copies
 * the first plan has the event already; a replay gives its live model the lessons of its recording and searches
 * nothing (a replay that plays its recording asks no model at all).
 */
@Injectable()
export class LessonRecall {
  private readonly logger = new Logger(LessonRecall.name);

  constructor(
    private readonly store: RunStore,
    @Inject(SEMANTIC_MEMORY) private readonly memory: SemanticMemory,
    @Inject(TRIAD_CONFIG) private readonly config: TriadConfig,
  ) {}

  /** The lessons this plan request carries (none when recall is off or nothing is close enough). */
  async lessonsFor(view: PlanView): Promise<RecalledLesson[]> {
    const given = recalledLessons(view.events);
    if (given.length || view.iteration !== 1 || view.recorded) return given;
    const { run } = view;
    const request = run.request;
    if (!request) return [];
    const chosen = await this.store.getOnce(run.id, RECALLED_LESSONS, RecalledLessons);
    if (chosen) return chosen;
    let lessons: RecalledLesson[];
    if (request.replayOf) {
      lessons = (await this.store.getOnce(run.id, `${RECORDING_PREFIX}${RECALLED_LESSONS}`, RecalledLessons)) ?? [];
    } else {
      if (!recallEnabled(this.config, run.tenant, request)) return [];
      const found = await this.search(run.tenant, request.goal, run.id);
      if (!found) return [];
      lessons = found;
    }
    const events = lessons.length ? [{ type: 'memory.recalled' as const, iteration: 1, lessons }] : [];
    return (await this.store.once(run.id, RECALLED_LESSONS, RecalledLessons, lessons, events)).value;
  }

  /** The closest lessons, or null when the memory could not be searched (the plan goes on without them). */
  private async search(tenant: string, goal: string, runId: string): Promise<RecalledLesson[] | null> {
    try {
      const { matches } = await this.memory.search(tenant, {
        query: goal.slice(0, MAX_MEMORY_TEXT_CHARS),
        k: RECALL_K,
        kind: 'lesson',
        minScore: MIN_LESSON_SCORE,
      });
      return matches.map(({ entry, score }) => ({
        id: entry.id,
        text: entry.text,
        score,
        untrusted: entry.untrusted,
        sourceRunId: entry.source.runId,
      }));
    } catch (err) {
      const { runId: id } = splitStoreRunId(runId);
      this.logger.warn(`run ${id}: lessons not recalled, the memory could not be searched: ${String(err)}`);
      return null;
    }
  }
}
