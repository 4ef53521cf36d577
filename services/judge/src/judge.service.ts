import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable } from '@nestjs/common';
import {
  addJob,
  JOB_NAMES,
  type JudgeJob,
  jobIds,
  modelCostUsd,
  type NewRunEvent,
  PlanDecision,
  parseReview,
  QUEUES,
  REASONING_MODEL,
  type ReasoningModel,
  type RunEvent,
  RunFinisher,
  type RunRecord,
  RunStore,
  reviewAnswer,
  StepResult,
  TRIAD_CONFIG,
  type TraceSpan,
  type TriadConfig,
  telemetryState,
  triadMetrics,
  Verdict,
  withRunSpan,
} from '@triad/shared';
import type { Queue } from 'bullmq';
import { IterationReview, iterationReviewMessages, iterationReviewSchema } from './judge-prompts.js';
import { reflectionChecks } from './reflection-checks.js';
import { verdictAfterObservations, verdictOnAnswer, verdictOnExhaustedBudget } from './verdict-rules.js';

const JUDGE_SPAN = { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'judge' };

interface Review {
  critique: string | null;
  accepted: boolean;
  model: string | null;
  inputTokens: number;
  outputTokens: number;
}

/** The Reflect stage: judge an iteration (or a proposed answer) once, then continue the loop or end the run. */
@Injectable()
export class JudgeService {
  constructor(
    private readonly store: RunStore,
    private readonly finisher: RunFinisher,
    @Inject(REASONING_MODEL) private readonly model: ReasoningModel,
    @Inject(TRIAD_CONFIG) private readonly config: TriadConfig,
    @InjectQueue(QUEUES.plan) private readonly planQueue: Queue,
  ) {}

  async judge(job: JudgeJob, signal?: AbortSignal): Promise<string> {
    const { runId, iteration } = job;
    const run = await this.store.get(runId);
    if (!run) return `run ${runId} does not exist`;
    if (run.status !== 'running') {
      await this.finisher.publish(runId);
      return `run already ${run.status}`;
    }
    if (run.iteration === iteration + 1 && run.phase === 'plan') {
      // Redelivered after the run moved on: repeat the hand-off (a no-op if it happened, a rescue if not).
      await this.handOff(runId, iteration + 1);
      return `duplicate: run is at ${run.iteration}/${run.phase}`;
    }
    if (run.iteration !== iteration || (run.phase !== 'act' && run.phase !== 'judge')) {
      return `duplicate: run is at ${run.iteration}/${run.phase}`;
    }
    const span = { runId, traceparent: run.traceparent, iteration, attributes: JUDGE_SPAN };
    return withRunSpan('invoke_agent judge', span, (s) => this.judgeTraced(s, run, job, signal));
  }

  private async judgeTraced(span: TraceSpan, run: RunRecord, job: JudgeJob, signal?: AbortSignal): Promise<string> {
    const { runId, iteration } = job;
    const verdict =
      (await this.store.getOnce(runId, `verdict:${iteration}`, Verdict)) ?? (await this.decide(run, job, signal));
    recordVerdict(span, verdict);
    if (verdict.next === 'finish') {
      await this.finisher.finish(runId, { ...verdict, iteration, error: errorOf(verdict) });
      return `run ${verdict.status}: ${verdict.reason}`;
    }
    // Move first, then hand off: the planner must never find the run still in this iteration.
    const next = iteration + 1;
    await this.store.transition(runId, { iteration, phase: run.phase }, { iteration: next, phase: 'plan' });
    await this.handOff(runId, next);
    return `continue with iteration ${next}`;
  }

  private async handOff(runId: string, iteration: number): Promise<void> {
    await addJob(this.planQueue, JOB_NAMES.plan, { runId, iteration }, { jobId: jobIds.plan(runId, iteration) });
  }

  private async decide(run: RunRecord, job: JudgeJob, signal?: AbortSignal): Promise<Verdict> {
    const { iteration } = job;
    const request = run.request;
    const [decision, history] = await Promise.all([
      this.store.getOnce(run.id, `plan:${iteration}`, PlanDecision),
      this.store.events(run.id),
    ]);
    if (!request || !decision) throw new Error(`run ${run.id} has no plan for iteration ${iteration}`);
    const results = await Promise.all(decision.toolCalls.map((c) => this.stepResult(run.id, c)));
    const checks = reflectionChecks(iteration, decision.toolCalls, results, history);
    const facts = { iteration, budget: request.budget, toolCallsUsed: run.usage.toolCalls, checks };

    let review: Review;
    let verdict: Verdict;
    // Admitted against the budget by the same atomic check as every other model and tool call. A run that ended
    // meanwhile is left to the ending that won (finish and transition refuse an ended run).
    const admission = await this.store.admit(run.id, `verdict:${iteration}`, 'model');
    const exhausted = !admission.admitted && 'limit' in admission ? admission.message : null;
    if (exhausted) {
      // Checked before the judge's own model call, like before every other model or tool call.
      review = noModel(null, false);
      verdict = verdictOnExhaustedBudget(exhausted, checks);
    } else if (job.kind === 'answer') {
      const answer = decision.answer ?? '';
      review = await this.reviewAnswer(request.goal, answer, history, signal);
      verdict = verdictOnAnswer({ ...facts, critique: review.critique, answer, accepted: review.accepted });
    } else {
      review = await this.reviewIteration(request.goal, iteration, history, checks, signal);
      verdict = verdictAfterObservations({ ...facts, critique: review.critique });
    }
    const events = verdictEvents(iteration, job.kind, verdict, review);
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
    return (await this.store.once(run.id, `verdict:${iteration}`, Verdict, verdict, events, usage)).value;
  }

  private async stepResult(runId: string, call: { stepId: string; callId: string; tool: string }): Promise<StepResult> {
    const recorded = await this.store.getOnce(runId, `step:${call.stepId}`, StepResult);
    return (
      recorded ?? {
        ...call,
        executor: 'none',
        durationMs: 0,
        observation: {
          ok: false,
          error: { code: 'tool_error', message: 'the step failed before recording an observation', retryable: true },
        },
      }
    );
  }

  private async reviewAnswer(goal: string, answer: string, history: RunEvent[], signal?: AbortSignal) {
    if (this.config.judgePolicy === 'checks') {
      return noModel(answer.trim() ? null : 'The answer is empty.', answer.trim().length > 0);
    }
    const { review, reply } = await reviewAnswer(this.model, this.config.model.judgeModel, {
      goal,
      answer,
      events: history,
      signal,
    });
    const accepted = review.verdict === 'accept';
    return {
      ...usageOf(reply),
      critique: review.critique.trim() || (accepted ? null : 'Revise the answer.'),
      accepted,
    };
  }

  private async reviewIteration(
    goal: string,
    iteration: number,
    history: RunEvent[],
    checks: string[],
    signal?: AbortSignal,
  ): Promise<Review> {
    if (this.config.judgePolicy !== 'always') return noModel(null, false);
    const reply = await this.model.chat({
      model: this.config.model.judgeModel,
      messages: iterationReviewMessages(goal, iteration, history, checks),
      jsonSchema: iterationReviewSchema(),
      signal,
    });
    return {
      ...usageOf(reply),
      critique: parseReview(IterationReview, reply.content).critique.trim() || null,
      accepted: false,
    };
  }
}

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

function errorOf(v: Verdict) {
  if (v.next !== 'finish' || v.status === 'succeeded') return null;
  return {
    code: v.status === 'budget_exceeded' ? ('budget_exceeded' as const) : ('answer_rejected' as const),
    message: v.reason,
  };
}

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

/** The verdict as a GenAI evaluation event; the critique is model text, so only with content capture on. */
function recordVerdict(span: TraceSpan, v: Verdict): void {
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

/** When an iteration began: the previous iteration's verdict, or the goal's arrival for the first. */
function iterationStart(history: RunEvent[], iteration: number): number | null {
  const mark = history.findLast((e) =>
    iteration === 1 ? e.type === 'goal.received' : e.type === 'verdict' && e.iteration === iteration - 1,
  );
  return mark?.at ?? null;
}
