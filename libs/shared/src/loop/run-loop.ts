import type { Span as TraceSpan } from '@opentelemetry/api';
import type { ActJob, JudgeJob, PlanJob, RunRecord, StoredRunEvent, Usage } from '@triad/contracts';
import { observationError, PlanDecision, priorityOf, StepResult, type ToolCall, Verdict } from '@triad/contracts';
import type { z } from 'zod';
import { TenantLimitError, TenantSpendBusyError } from '../errors/triad-error.js';
import type { ChatReply } from '../reasoning/chat.js';
import { withSpendScope } from '../reasoning/spend-capped-model.js';
import type { RunFinisher } from '../runs/run-finisher.js';
import {
  matchRecordedCall,
  RECORDING_PREFIX,
  recordedApprovals,
  replyOfDecision,
  replyOfVerdict,
} from '../runs/run-lineage.js';
import type { Admission, AdvanceOutcome, AdvanceStep, NewRunEvent, RunEnd, RunStore } from '../store/run-store.js';
import { withRunSpan } from '../telemetry/run-trace.js';
import type { LoopHandOff } from './loop-hand-off.js';
import { admitStage, STAGE_PHASES } from './loop-rules.js';
import type { StageContext } from './stage-processor.js';

/** What a stage produced: the value to record once, with its events and the usage it cost. */
export interface Produced<T> {
  value: T;
  events: NewRunEvent[];
  usage?: Partial<Usage>;
}

/** What the planner's stage is given: the run and its history. */
export interface PlanView {
  run: RunRecord;
  iteration: number;
  events: StoredRunEvent[];
  /** A replay's recorded model reply for this stage: the stage plays it instead of asking the model. */
  recorded?: ChatReply;
}

/** The planner's stage: ask the model what to do next in this iteration. */
export type PlanStage = (view: PlanView, ctx: StageContext) => Promise<Produced<PlanDecision>>;

/** What the judge's stage is given; `exhausted` names a used-up budget limit (then no model may be asked). */
export interface JudgeView {
  run: RunRecord;
  job: JudgeJob;
  decision: PlanDecision;
  events: StoredRunEvent[];
  exhausted: string | null;
  /** A replay's recorded judge reply for this stage (null: the judge asked no model then), played instead of a call. */
  replay?: { reply: ChatReply | null };
}

/** What the executor's stage is given: the call, and its admission against the run's budget. */
export interface ActView {
  run: RunRecord;
  call: ToolCall;
  /** Admits the step (see RunStore.admit); `reserve` false only checks. */
  admit(reserve: boolean): Promise<Admission>;
}

/** The judge's stage: reach a verdict on the iteration (or the proposed answer). */
export interface JudgeStage {
  decide(view: JudgeView, ctx: StageContext): Promise<Produced<Verdict>>;
  /** Marks the stage's span with the verdict (also one recorded by an earlier delivery). */
  describe(span: TraceSpan, verdict: Verdict): void;
}

/** The executor's stage: run one tool call; `exhausted` names a used-up limit that ends the run. */
export interface ActStage {
  spanAttributes(call: ToolCall): Record<string, string>;
  execute(view: ActView, span: TraceSpan, ctx: StageContext): Promise<{ result: StepResult; exhausted?: string }>;
}

/** How long a stage waits (plus as much again at random) when its tenant's cap is held by calls in flight. */
const SPEND_WAIT_MS = 250;

const PLAN_SPAN = { 'gen_ai.operation.name': 'plan', 'gen_ai.agent.name': 'planner' };
const JUDGE_SPAN = { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'judge' };

/**
 * The agentic loop's protocol, in one place. Each stage job is admitted by its run's position (loop-rules.ts), reads
 * what it needs in one round trip, lets its service do the stage's own work (ask the model, run the tool, reach a
 * verdict), then records the outcome and moves the run in one atomic write, and hands the next stage its job.
 * A redelivered stage reuses what was recorded; a used-up budget ends the run.
 */
export class RunLoop {
  constructor(
    private readonly store: RunStore,
    private readonly finisher: RunFinisher,
    private readonly handOff: LoopHandOff,
    private readonly maxCallsPerReply: number,
  ) {}

  /** Starts a run created at (1, plan), or a fork seeded to start later, at its goal's priority. */
  start(runId: string, priority: number, iteration = 1): Promise<void> {
    return this.handOff.plan(runId, iteration, priority);
  }

  /** Interpret and Plan: one planner iteration. */
  async plan(job: PlanJob, ctx: StageContext, decide: PlanStage): Promise<string> {
    const { runId, iteration } = job;
    const once = `plan:${iteration}`;
    const rec = `${RECORDING_PREFIX}${once}`;
    const read = await this.store.read(runId, { once: [once, rec], events: true, admitModel: true });
    const { run } = read;
    const recorded = read.once[once] ?? null;
    const admit = admitStage('plan', iteration, run);
    if (!run || admit !== 'proceed') {
      if (admit === 'repeat-hand-off' && recorded)
        await this.afterPlan(runId, JSON.parse(recorded), priorityOf(run?.request));
      return this.notProceeding(runId, run);
    }
    const span = { runId, traceparent: run.traceparent, iteration, attributes: PLAN_SPAN };
    return withRunSpan('plan planner', span, async () => {
      let produced: Produced<PlanDecision> | string | null = null;
      if (recorded === null) {
        const admission = read.admission as Admission;
        if (!admission.admitted) {
          if ('ended' in admission) return `run ${admission.ended}`;
          await this.endOnBudget(runId, iteration, admission.message);
          return admission.message;
        }
        const view: PlanView = { run, iteration, events: read.events };
        if (playsRecording(run)) {
          const raw = read.once[rec];
          if (!raw)
            return this.endNotRecorded(
              runId,
              iteration,
              `the recording has no planner reply for iteration ${iteration}`,
            );
          view.recorded = replyOfDecision(raw);
        }
        produced = await this.charged(runId, 'plan', iteration, ctx, () => decide(view, ctx));
        if (typeof produced === 'string') return produced;
      }
      const step = { once, ...outcome(produced, recorded, PlanDecision), from: this.from('plan', iteration) };
      const { value: decision, out } = await this.advance(runId, step, (d) => ({
        to: { phase: d.toolCalls.length ? 'act' : 'judge' },
      }));
      if (out.outcome === 'moved' || (out.outcome === 'elsewhere' && out.iteration === iteration)) {
        await this.afterPlan(runId, decision, priorityOf(run.request));
      } else if (out.outcome === 'ended') {
        await this.finisher.publish(runId);
      }
      return decision.toolCalls.length ? `${decision.toolCalls.length} tool calls` : 'answer proposed';
    });
  }

  /** Act and Observe: one tool call, run at most once and recorded in the ledger. */
  async act(job: ActJob, ctx: StageContext, stage: ActStage): Promise<StepResult> {
    const { runId, iteration, stepId } = job;
    const once = `step:${stepId}`;
    const read = await this.store.read(runId, { once: [once, `plan:${iteration}`] });
    const recorded = read.once[once];
    if (recorded) return JSON.parse(recorded) as StepResult;
    const decision = read.once[`plan:${iteration}`];
    const call = decision ? (JSON.parse(decision) as PlanDecision).toolCalls.find((c) => c.stepId === stepId) : null;
    const { run } = read;
    if (!run || !call) throw new Error(`run ${runId} has no tool call ${stepId}`);
    const span = { runId, traceparent: run.traceparent, iteration, stepId, attributes: stage.spanAttributes(call) };
    return withRunSpan(`execute_tool ${call.tool}`, span, async (s) => {
      const admit = (reserve: boolean) => this.store.admit(runId, stepId, 'tool', { reserve });
      const replayed = await this.replayedStep(run, call, iteration);
      if (replayed) {
        s.setAttribute('triad.replayed', true);
        await admit(true); // counted like the recorded call was, so the replay's usage matches its recording
        const events: NewRunEvent[] = [...replayed.events, { type: 'observation', iteration, ...replayed.result }];
        return (await this.store.once(runId, once, StepResult, replayed.result, events)).value;
      }
      // A tool that asks the model (self_check) is charged to the run's tenant like the planner and the judge.
      const execute = () => stage.execute({ run, call, admit }, s, ctx);
      const { result, exhausted } = await withSpendScope({ runId, stage: `act:${stepId}`, iteration }, execute);
      const event: NewRunEvent = { type: 'observation', iteration, ...result };
      const { value } = await this.store.once(runId, once, StepResult, result, [event]);
      // A used-up budget ends the run once the refused call is on record, so the run's history shows both.
      if (exhausted && !value.observation.ok && value.observation.error.code === 'budget_exceeded') {
        await this.endOnBudget(runId, run.iteration, exhausted);
      }
      return value;
    });
  }

  /** Reflect: judge the iteration's observations (or a proposed answer), then continue the loop or end the run. */
  async judge(job: JudgeJob, ctx: StageContext, stage: JudgeStage): Promise<string> {
    const { runId, iteration } = job;
    const [once, plan] = [`verdict:${iteration}`, `plan:${iteration}`];
    const rec = `${RECORDING_PREFIX}${once}`;
    const read = await this.store.read(runId, { once: [once, plan, rec], events: true, admitModel: true });
    const { run } = read;
    const admit = admitStage('judge', iteration, run);
    if (!run || admit !== 'proceed') {
      if (admit === 'repeat-hand-off') await this.handOff.plan(runId, iteration + 1, priorityOf(run?.request));
      return this.notProceeding(runId, run);
    }
    const span = { runId, traceparent: run.traceparent, iteration, attributes: JUDGE_SPAN };
    return withRunSpan('invoke_agent judge', span, async (s) => {
      let produced: Produced<Verdict> | string | null = null;
      const recorded = read.once[once] ?? null;
      if (recorded === null) {
        const decision = read.once[plan];
        if (!decision) throw new Error(`run ${runId} has no plan for iteration ${iteration}`);
        const admission = read.admission as Admission;
        if (!admission.admitted && 'ended' in admission) return `run ${admission.ended}`;
        const exhausted = admission.admitted ? null : admission.message;
        const view: JudgeView = {
          run,
          job,
          decision: JSON.parse(decision) as PlanDecision,
          events: read.events,
          exhausted,
        };
        if (playsRecording(run)) {
          const raw = read.once[rec];
          if (!raw)
            return this.endNotRecorded(runId, iteration, `the recording has no verdict for iteration ${iteration}`);
          view.replay = { reply: replyOfVerdict(raw) };
        }
        produced = await this.charged(runId, 'judge', iteration, ctx, () => stage.decide(view, ctx));
        if (typeof produced === 'string') return produced;
      }
      const step = { once, ...outcome(produced, recorded, Verdict), from: this.from('judge', iteration) };
      const { value: verdict, out } = await this.advance(runId, step, (v) =>
        v.next === 'finish' ? { finish: endOf(v, iteration) } : { to: { iteration: iteration + 1, phase: 'plan' } },
      );
      stage.describe(s, verdict);
      switch (out.outcome) {
        case 'finished':
          await this.finisher.publishEnded(out.run);
          return `run ${out.run.status}: ${verdict.next === 'finish' ? verdict.reason : ''}`;
        case 'ended':
          await this.finisher.publish(runId);
          return `run already ${out.status}`;
        case 'moved':
          await this.handOff.plan(runId, iteration + 1, priorityOf(run.request));
          return `continue with iteration ${iteration + 1}`;
        default:
          if (out.outcome === 'elsewhere' && out.iteration === iteration + 1)
            await this.handOff.plan(runId, iteration + 1, priorityOf(run.request));
          return `duplicate: run is at ${out.outcome === 'elsewhere' ? `${out.iteration}/${out.phase}` : 'unknown'}`;
      }
    });
  }

  /**
   * A replay's answer to a tool call from its recording, or null when the call runs live. Playing the recording: the
   * step of the same id (or `not_recorded`). With a live model: the recorded call with the same tool and canonical
   * arguments; none, and tools may not run live: `not_recorded`.
   */
  private async replayedStep(
    run: RunRecord,
    call: ToolCall,
    iteration: number,
  ): Promise<{ result: StepResult; events: NewRunEvent[] } | null> {
    const replay = run.request?.replayOf;
    if (!replay) return null;
    if (!replay.liveModel) {
      // Playing the recording: the same step, with the approval events it had (no gate is asked again).
      const [stepName, approvalsName] = [`${RECORDING_PREFIX}step:${call.stepId}`, recordedApprovals(call.stepId)];
      const { once } = await this.store.read(run.id, { once: [stepName, approvalsName] });
      const [step, approvals] = [once[stepName], once[approvalsName]];
      if (step) return { result: JSON.parse(step) as StepResult, events: approvals ? JSON.parse(approvals) : [] };
    } else {
      const found = matchRecordedCall(await this.store.ledger(run.id), call, iteration);
      if (found) return { result: { ...found, stepId: call.stepId, callId: call.callId }, events: [] };
      if (replay.toolsLive) return null;
    }
    const message = `${call.tool} with these arguments is not in the recording of run ${replay.runId}; the tool was not run`;
    const observation = observationError('not_recorded', message);
    const result = { stepId: call.stepId, callId: call.callId, tool: call.tool, executor: 'replay', durationMs: 0 };
    return { result: { ...result, observation }, events: [] };
  }

  /** Ends a replay whose recording lacks what the run needs next. */
  private async endNotRecorded(runId: string, iteration: number, message: string): Promise<string> {
    const error = { code: 'not_recorded' as const, message };
    await this.finisher.finish(runId, { status: 'failed', iteration, reason: message, error });
    return message;
  }

  /** Ends a run whose budget is used up, naming the limit. */
  endOnBudget(runId: string, iteration: number, message: string): Promise<boolean> {
    const error = { code: 'budget_exceeded' as const, message };
    return this.finisher.finish(runId, { status: 'budget_exceeded', iteration, reason: message, error });
  }

  /**
   * A stage's model work, its calls charged to the run's tenant (see SpendCappedModel). A call refused by a tenant
   * spend cap ends the run like a used-up run budget (the refusal's message is returned); one that would fit once the
   * tenant's calls in flight settle parks the stage for a moment, holding no worker slot.
   */
  private async charged<T>(
    runId: string,
    stage: 'plan' | 'judge',
    iteration: number,
    ctx: StageContext,
    work: () => Promise<T>,
  ): Promise<T | string> {
    try {
      return await withSpendScope({ runId, stage, iteration }, work);
    } catch (err) {
      if (err instanceof TenantSpendBusyError) {
        return ctx.park(Date.now() + SPEND_WAIT_MS + Math.floor(Math.random() * SPEND_WAIT_MS), err.message);
      }
      if (!(err instanceof TenantLimitError)) throw err;
      await this.endOnBudget(runId, iteration, err.message);
      return err.message;
    }
  }

  private from(stage: 'plan' | 'judge', iteration: number) {
    return { iteration, phases: STAGE_PHASES[stage] };
  }

  /** Records and moves (see RunStore.advance); a stage that lost the race to record moves with the winner's value. */
  private async advance<T>(
    runId: string,
    { parsed, ...step }: Omit<AdvanceStep, 'to' | 'finish'> & { parsed: T },
    target: (value: T) => Pick<AdvanceStep & { to: unknown }, 'to'> | { finish: RunEnd },
  ): Promise<{ value: T; out: Exclude<AdvanceOutcome, { outcome: 'lost' }> }> {
    const first = await this.store.advance(runId, { ...step, ...target(parsed) } as AdvanceStep);
    if (first.outcome !== 'lost') return { value: parsed, out: first };
    const value = JSON.parse(first.winner) as T;
    const again = { ...step, value: first.winner, events: [], usage: {}, ...target(value) } as AdvanceStep;
    const out = await this.store.advance(runId, again);
    if (out.outcome === 'lost') throw new Error(`run ${runId}: ${step.once} changed after it was recorded`);
    return { value, out };
  }

  /**
   * Tool calls become a flow whose judge starts when every step is done. Calls beyond TRIAD_MAX_CALLS_PER_REPLY are
   * refused here, on the record before the flow exists, and never become act jobs; an answer goes to the judge.
   */
  private async afterPlan(runId: string, d: PlanDecision, priority: number): Promise<void> {
    if (!d.toolCalls.length) return this.handOff.judgeAnswer(runId, d.iteration, priority);
    const cap = this.maxCallsPerReply;
    for (const c of d.toolCalls.slice(cap)) {
      const message =
        `this reply asked for ${d.toolCalls.length} tool calls and at most ${cap} tool calls of one reply run: ` +
        `${c.tool} was not run; ask for it again in a later reply if it is still needed`;
      const result: StepResult = {
        stepId: c.stepId,
        callId: c.callId,
        tool: c.tool,
        executor: 'planner',
        durationMs: 0,
        observation: observationError('too_many_calls', message),
      };
      await this.store.once(runId, `step:${c.stepId}`, StepResult, result, [
        { type: 'observation', iteration: d.iteration, ...result },
      ]);
    }
    const steps = d.toolCalls.slice(0, cap).map((c) => c.stepId);
    await this.handOff.actThenJudge(runId, d.iteration, steps, priority);
  }

  private async notProceeding(runId: string, run: RunRecord | null): Promise<string> {
    if (!run) return `run ${runId} does not exist`;
    if (run.status !== 'running') {
      await this.finisher.publishEnded(run);
      return `run already ${run.status}`;
    }
    return `duplicate: run is at ${run.iteration}/${run.phase}`;
  }
}

/** Whether a run plays its recorded model replies (a replay without a live model). */
const playsRecording = (run: RunRecord) => run.request?.replayOf?.liveModel === false;

/** What a stage writes: what it just produced (validated, serialized once), or what an earlier delivery recorded. */
function outcome<S extends z.ZodType>(produced: Produced<z.infer<S>> | null, recorded: string | null, schema: S) {
  if (!produced) return { parsed: JSON.parse(recorded as string) as z.infer<S>, value: recorded as string };
  const parsed = schema.parse(produced.value) as z.infer<S>;
  return { parsed, value: JSON.stringify(parsed), events: produced.events, usage: produced.usage };
}

/** How a verdict that finishes ends its run. */
function endOf(v: Extract<Verdict, { next: 'finish' }>, iteration: number): RunEnd {
  const code = v.code ?? (v.status === 'budget_exceeded' ? 'budget_exceeded' : 'answer_rejected');
  const error = v.status === 'succeeded' ? null : { code, message: v.reason };
  return { status: v.status, iteration, answer: v.answer, output: v.output ?? null, error, reason: v.reason };
}
