import { Inject, Injectable } from '@nestjs/common';
import {
  type ChatReply,
  type JudgeJob,
  type JudgeStage,
  type JudgeView,
  modelCostUsd,
  type NewRunEvent,
  type Produced,
  parseReview,
  REASONING_MODEL,
  type ReasoningModel,
  type RunEvent,
  reviewAnswer,
  type StageContext,
  type StepResult,
  type StoredRunEvent,
  TRIAD_CONFIG,
  type TraceSpan,
  type TriadConfig,
  TriadError,
  telemetryState,
  triadMetrics,
  type Verdict,
} from '@triad/shared';
import { IterationReview, iterationReviewMessages, iterationReviewSchema } from './judge-prompts.js';
import { checkOutput, outputCritique } from './output-check.js';
import { reflectionChecks } from './reflection-checks.js';
import {
  verdictAfterObservations,
  verdictOnAnswer,
  verdictOnExhaustedBudget,
  verdictOnInvalidOutput,
} from './verdict-rules.js';

interface Review {
  critique: string | null;
  /** The model's reply text, recorded with the verdict so a replay can play it. */
  content?: string | null;
  accepted: boolean;
  model: string | null;
  inputTokens: number;
  outputTokens: number;
}

/** The Reflect stage: reach a verdict on an iteration (or a proposed answer); the run loop records and acts on it. */
@Injectable()
export class JudgeService implements JudgeStage {
  constructor(
    @Inject(REASONING_MODEL) private readonly model: ReasoningModel,
    @Inject(TRIAD_CONFIG) private readonly config: TriadConfig,
  ) {}

  /** The verdict the loop records with the iteration's reflection; with `exhausted`, no model is asked. */
  async decide(view: JudgeView, ctx: StageContext): Promise<Produced<Verdict>> {
    const { run, job, decision, events: history, exhausted } = view;
    const { iteration } = job;
    const request = run.request;
    if (!request) throw new Error(`run ${run.id} has no request`);
    const results = decision.toolCalls.map((c) => stepResult(history, c));
    const checks = reflectionChecks(iteration, decision.toolCalls, results, history);
    const facts = { iteration, budget: request.budget, toolCallsUsed: run.usage.toolCalls, checks };
    const signal = ctx.signal;
    // A replay plays the judge's recorded reply instead of asking the model.
    const model = view.replay ? recordedModel(view.replay.reply) : this.model;

    let review: Review;
    let verdict: Verdict;
    if (exhausted) {
      // Checked before the judge's own model call, like before every other model or tool call.
      review = noModel(null, false);
      verdict = verdictOnExhaustedBudget(exhausted, checks);
    } else if (job.kind === 'answer') {
      const answer = decision.answer ?? '';
      const typed = request.outputSchema ? checkOutput(request.outputSchema, answer) : null;
      if (typed && !typed.valid) {
        // Checked before any model call: an answer of the wrong shape goes back at no cost.
        review = noModel(outputCritique(typed.problems), false);
        verdict = verdictOnInvalidOutput({ ...facts, critique: review.critique, problems: typed.problems });
      } else {
        review = await this.reviewAnswer(model, request.goal, answer, history, signal);
        const output = typed?.valid ? typed.output : null;
        verdict = verdictOnAnswer({ ...facts, critique: review.critique, answer, accepted: review.accepted, output });
      }
    } else {
      review = await this.reviewIteration(model, request.goal, iteration, history, checks, signal);
      verdict = verdictAfterObservations({ ...facts, critique: review.critique });
    }
    const started = iterationStart(history, iteration);
    const label = verdict.next === 'finish' ? verdict.status : 'continue';
    if (started !== null) triadMetrics.iterationFinished((Date.now() - started) / 1000, label);
    const usage = {
      inputTokens: review.inputTokens,
      outputTokens: review.outputTokens,
      modelCalls: review.model ? 1 : 0,
      costUsd: review.model
        ? modelCostUsd(
            this.config.model.prices,
            { requested: this.config.model.judgeModel, replied: review.model },
            review,
          )
        : 0,
    };
    if (review.model) {
      const { model: m, content = null, inputTokens, outputTokens } = review;
      verdict = { ...verdict, review: { model: m, content, inputTokens, outputTokens } };
    }
    return { value: verdict, events: verdictEvents(iteration, job.kind, verdict, review), usage };
  }

  /** The verdict as a GenAI evaluation event; the critique is model text, so only with content capture on. */
  describe(span: TraceSpan, v: Verdict): void {
    const label = v.next === 'finish' ? v.status : 'continue';
    span.addEvent('gen_ai.evaluation.result', {
      'gen_ai.evaluation.name': 'triad.verdict',
      'gen_ai.evaluation.score.label': label,
      ...(v.next === 'finish' ? { 'triad.run.status': v.status } : {}),
      ...(telemetryState().traceContent
        ? { 'gen_ai.evaluation.explanation': v.next === 'finish' ? v.reason : (v.critique ?? '') }
        : {}),
    });
    span.setAttribute('triad.verdict', label);
  }

  private async reviewAnswer(
    model: ReasoningModel,
    goal: string,
    answer: string,
    history: RunEvent[],
    signal?: AbortSignal,
  ) {
    if (this.config.judgePolicy === 'checks') {
      return noModel(answer.trim() ? null : 'The answer is empty.', answer.trim().length > 0);
    }
    const { review, reply } = await reviewAnswer(model, this.config.model.judgeModel, {
      goal,
      answer,
      events: history,
      signal,
    });
    const accepted = review.verdict === 'accept';
    return {
      ...usageOf(reply),
      content: reply.content,
      critique: review.critique.trim() || (accepted ? null : 'Revise the answer.'),
      accepted,
    };
  }

  private async reviewIteration(
    model: ReasoningModel,
    goal: string,
    iteration: number,
    history: RunEvent[],
    checks: string[],
    signal?: AbortSignal,
  ): Promise<Review> {
    if (this.config.judgePolicy !== 'always') return noModel(null, false);
    const reply = await model.chat({
      model: this.config.model.judgeModel,
      messages: iterationReviewMessages(goal, iteration, history, checks),
      jsonSchema: iterationReviewSchema(),
      signal,
    });
    return {
      ...usageOf(reply),
      content: reply.content,
      critique: parseReview(IterationReview, reply.content).critique.trim() || null,
      accepted: false,
    };
  }
}

/** A model that plays one recorded reply; with none recorded, the replay cannot go on. */
const recordedModel = (reply: ChatReply | null): ReasoningModel => ({
  chat: async () => {
    if (!reply) throw new TriadError('not_recorded', 'the recording has no judge reply for this stage', false);
    return reply;
  },
});

const noModel = (critique: string | null, accepted: boolean): Review => ({
  critique,
  accepted,
  model: null,
  inputTokens: 0,
  outputTokens: 0,
});

const usageOf = (r: { model: string; inputTokens: number; outputTokens: number }) => ({
  model: r.model,
  inputTokens: r.inputTokens,
  outputTokens: r.outputTokens,
});

function verdictEvents(iteration: number, kind: JudgeJob['kind'], v: Verdict, review: Review): NewRunEvent[] {
  const text = v.next === 'plan' ? (v.critique ?? '') : (review.critique ?? '');
  const decision =
    v.next === 'plan' ? (kind === 'answer' ? 'reject' : 'continue') : v.status === 'succeeded' ? 'accept' : 'stop';
  const reason =
    v.next === 'finish' ? v.reason : kind === 'answer' ? 'answer sent back for revision' : 'next iteration';
  return [
    { type: 'reflection', iteration, text, checks: v.checks, model: review.model },
    { type: 'verdict', iteration, decision, reason },
  ];
}

/** When an iteration began: the previous iteration's verdict, or the goal's arrival for the first. */
function iterationStart(history: RunEvent[], iteration: number): number | null {
  const mark = history.findLast((e) =>
    iteration === 1 ? e.type === 'goal.received' : e.type === 'verdict' && e.iteration === iteration - 1,
  );
  return mark?.at ?? null;
}

/** A step's recorded observation, from its `observation` event; a step that failed for good has none. */
function stepResult(history: StoredRunEvent[], call: { stepId: string; callId: string; tool: string }): StepResult {
  const event = history.find((e) => e.type === 'observation' && e.stepId === call.stepId);
  if (event?.type === 'observation') {
    const { type: _type, iteration: _iteration, at: _at, id: _id, ...result } = event;
    return result;
  }
  return {
    ...call,
    executor: 'none',
    durationMs: 0,
    observation: {
      ok: false,
      error: { code: 'tool_error', message: 'the step failed before recording an observation', retryable: true },
    },
  };
}
