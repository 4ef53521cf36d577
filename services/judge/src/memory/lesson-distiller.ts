import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  LEARNED_LESSONS,
  LearnedLessons,
  type MemoryEntry,
  mayLearnFrom,
  type NewMemory,
  type NewRunEvent,
  REASONING_MODEL,
  type ReasoningModel,
  type RunEvent,
  type RunRecord,
  RunStore,
  SEMANTIC_MEMORY,
  type SemanticMemory,
  somethingToLearn,
  splitStoreRunId,
  TenantLimitError,
  type ToolErrorCode,
  TRIAD_CONFIG,
  type TriadConfig,
  withSpendScope,
} from '@triad/shared';
import { distillationSchema, distillMessages, type Lesson, MAX_LESSONS, parseDistillation } from './distill-prompts.js';

/**
 * Observation errors Triad makes itself without running the tool (an unknown tool, arguments that do not fit, a call
 * outside the allow-list, a refused or expired approval, a used-up budget, a cancelled or unrecorded call): their text
 * is Triad's own. Any other observation (a result, a tool's own error, a timeout, a bad output) carries what a tool
 * returned.
 */
const TRIAD_OWN_ERRORS = new Set<ToolErrorCode>([
  'unknown_tool',
  'invalid_arguments',
  'rejected',
  'approval_expired',
  'cancelled',
  'budget_exceeded',
  'tool_not_allowed',
  'too_many_calls',
  'not_recorded',
]);

/**
 * The trust rule: a lesson is untrusted when the history it was distilled from holds text a tool returned (a result,
 * or a tool's own error) or an untrusted lesson of an earlier run, since the model may have copied that text into it.
 * Lessons of a run whose tool calls were all refused by Triad itself (or that called none) are trusted.
 */
export function mayCarryToolOutput(events: readonly RunEvent[]): boolean {
  return events.some(
    (e) =>
      (e.type === 'observation' && (e.observation.ok || !TRIAD_OWN_ERRORS.has(e.observation.error.code))) ||
      (e.type === 'memory.recalled' && e.lessons.some((l) => l.untrusted)),
  );
}

/**
 * Learning from an ended run (a `distill` job): the judge model reads the run's goal, tool calls, results, critiques
 * and outcome, and proposes at most three general lessons, stored in the tenant's semantic memory with the run as
 * their source, then recorded once in the run's ledger with a `memory.learned` event. The call is charged to the
 * tenant like every model call of its runs (a tenant at its daily cap learns nothing that day); the finished run's own
 * usage and budget are not touched. A reply that is not entirely valid stores nothing and fails the job (BullMQ
 * retries it).
 */
@Injectable()
export class LessonDistiller {
  private readonly logger = new Logger(LessonDistiller.name);

  constructor(
    private readonly store: RunStore,
    @Inject(SEMANTIC_MEMORY) private readonly memory: SemanticMemory,
    @Inject(REASONING_MODEL) private readonly model: ReasoningModel,
    @Inject(TRIAD_CONFIG) private readonly config: TriadConfig,
  ) {}

  /** Distils the run's lessons once; returns what was done, as the job's result. */
  async distill(runId: string, signal?: AbortSignal): Promise<string> {
    const read = await this.store.read(runId, { once: [LEARNED_LESSONS], events: true });
    const { run, events } = read;
    if (!run) return `run ${runId} is gone`;
    if (read.once[LEARNED_LESSONS]) return 'learned already';
    if (!mayLearnFrom(run, this.config)) return 'nothing to learn: learning is off for this run';
    const reason = somethingToLearn(run, events);
    if (!reason) return 'nothing to learn: nothing failed and nothing was sent back';

    const { tenant, runId: sourceRunId } = splitStoreRunId(run.id);
    // A delivery that stored the lessons and died before recording them: record those, ask nothing again.
    const earlier = await this.memory.list(tenant, { sourceRunId, kind: 'lesson', limit: MAX_LESSONS });
    const stored = earlier.entries.filter((e) => e.source.origin === 'judge');
    if (stored.length) return this.record(run, stored, 0, 0, 'stored by an earlier attempt');

    let reply: Awaited<ReturnType<ReasoningModel['chat']>>;
    try {
      reply = await withSpendScope({ runId: run.id, stage: 'distill', iteration: run.iteration }, () =>
        this.model.chat({
          model: this.config.model.judgeModel,
          messages: distillMessages(run, events),
          jsonSchema: distillationSchema(),
          signal,
        }),
      );
    } catch (err) {
      if (!(err instanceof TenantLimitError)) throw err;
      this.logger.log(`run ${sourceRunId}: no lessons distilled, the tenant's daily cap is reached: ${err.message}`);
      return `skipped: ${err.message}`;
    }
    const lessons = parseDistillation(reply.content);
    const modelTokens = reply.inputTokens + reply.outputTokens;
    if (!lessons.length) return this.record(run, [], 0, modelTokens, reason);
    const untrusted = mayCarryToolOutput(events);
    const source = { origin: 'judge' as const, runId: sourceRunId, stepId: null };
    const written = await this.memory.writeMany(
      lessons.map(
        (l: Lesson): NewMemory => ({ tenant, kind: 'lesson', text: l.text, tags: l.tags, source, untrusted }),
      ),
    );
    const fresh = written.filter((w) => !w.duplicate).map((w) => w.entry);
    const embedTokens = written.reduce((n, w) => n + w.tokens, 0);
    return this.record(run, fresh, written.length - fresh.length, modelTokens + embedTokens, reason);
  }

  private async record(
    run: RunRecord,
    entries: MemoryEntry[],
    duplicates: number,
    tokens: number,
    reason: string,
  ): Promise<string> {
    const lessons = entries.map((e) => ({ id: e.id, text: e.text, untrusted: e.untrusted }));
    const event: NewRunEvent = { type: 'memory.learned', iteration: run.iteration, lessons, duplicates, tokens };
    const value = { ids: entries.map((e) => e.id), duplicates, tokens };
    await this.store.once(run.id, LEARNED_LESSONS, LearnedLessons, value, [event]);
    return `${lessons.length} lessons learned, ${duplicates} known already (${reason})`;
  }
}
