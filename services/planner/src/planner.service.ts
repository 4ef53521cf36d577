import { InjectFlowProducer, InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable } from '@nestjs/common';
import {
  ActJob,
  addJob,
  defaultJobOptions,
  JOB_NAMES,
  JudgeJob,
  jobIds,
  modelCostUsd,
  type NewRunEvent,
  observationError,
  PlanDecision,
  QUEUES,
  REASONING_MODEL,
  type ReasoningModel,
  RunFinisher,
  type RunRecord,
  RunStore,
  redactArguments,
  StepResult,
  stepIdOf,
  type ToolCall,
  ToolCatalog,
  type ToolSpec,
  TRIAD_CONFIG,
  type TriadConfig,
  TriadError,
  withRunSpan,
} from '@triad/shared';
import type { FlowProducer, Queue } from 'bullmq';
import { buildConversation } from './conversation.js';
import { toolsForRun } from './planner-tools.js';

export const FLOW_PRODUCER = 'triad-flows';
const PLAN_SPAN = { 'gen_ai.operation.name': 'plan', 'gen_ai.agent.name': 'planner' };

/** One planner iteration: decide (once, by asking the model), hand the decision on, move the run. */
@Injectable()
export class PlannerService {
  constructor(
    private readonly store: RunStore,
    private readonly finisher: RunFinisher,
    private readonly catalog: ToolCatalog,
    @Inject(REASONING_MODEL) private readonly model: ReasoningModel,
    @Inject(TRIAD_CONFIG) private readonly config: TriadConfig,
    @InjectQueue(QUEUES.judge) private readonly judgeQueue: Queue,
    @InjectFlowProducer(FLOW_PRODUCER) private readonly flows: FlowProducer,
  ) {}

  async plan(runId: string, iteration: number, signal?: AbortSignal): Promise<string> {
    const run = await this.store.get(runId);
    if (!run) return `run ${runId} does not exist`;
    if (run.status !== 'running') {
      await this.finisher.publish(runId);
      return `run already ${run.status}`;
    }
    if (run.iteration === iteration && run.phase !== 'plan') {
      // Redelivered after the run moved on: repeat the hand-off, which the deterministic job ids make a no-op
      // when it already happened, and a rescue when the first delivery died between the move and the hand-off.
      const done = await this.store.getOnce(runId, `plan:${iteration}`, PlanDecision);
      if (done) await this.dispatch(runId, done);
      return `duplicate: run is at ${run.iteration}/${run.phase}`;
    }
    if (run.iteration !== iteration) return `duplicate: run is at ${run.iteration}/${run.phase}`;
    const span = { runId, traceparent: run.traceparent, iteration, attributes: PLAN_SPAN };
    return withRunSpan('plan planner', span, () => this.planIteration(run, iteration, signal));
  }

  private async planIteration(run: RunRecord, iteration: number, signal?: AbortSignal): Promise<string> {
    const runId = run.id;
    let decision = await this.store.getOnce(runId, `plan:${iteration}`, PlanDecision);
    if (!decision) {
      // Admitted atomically against the budget: refused once the recorded tokens or cost are used up.
      const admission = await this.store.admit(runId, `plan:${iteration}`, 'model');
      if (!admission.admitted && 'ended' in admission) return `run ${admission.ended}`;
      if (!admission.admitted) {
        await this.finisher.finish(runId, {
          status: 'budget_exceeded',
          iteration,
          reason: admission.message,
          error: { code: 'budget_exceeded', message: admission.message },
        });
        return admission.message;
      }
      decision = await this.decide(run, iteration, signal);
    }
    // Move first, then hand off: the next stage must never find the run still in the phase before it.
    const next = decision.toolCalls.length ? 'act' : 'judge';
    await this.store.transition(runId, { iteration, phase: 'plan' }, { phase: next });
    await this.dispatch(runId, decision);
    return decision.toolCalls.length ? `${decision.toolCalls.length} tool calls` : 'answer proposed';
  }

  /** Asks the model and records its decision with its events and usage, once. */
  private async decide(run: RunRecord, iteration: number, signal?: AbortSignal): Promise<PlanDecision> {
    const request = run.request;
    if (!request) throw new Error(`run ${run.id} has no request`);
    const [catalog, events] = await Promise.all([this.catalog.list(), this.store.events(run.id)]);
    // Retryable: executors publish their tools when they start, and may simply not be up yet.
    if (!catalog.length) throw new TriadError('internal_error', 'no executor has published its tools yet', true);
    const reply = await this.model.chat({
      model: this.config.model.plannerModel,
      messages: buildConversation(request, events),
      tools: toolsForRun(catalog, request),
      secretArguments: Object.fromEntries(secretsOf(catalog)),
      signal,
    });
    const decision: PlanDecision = {
      iteration,
      model: reply.model,
      thought: reply.toolCalls.length ? reply.content : null,
      toolCalls: reply.toolCalls.map((c, i) => ({
        stepId: stepIdOf(iteration, i),
        callId: c.id,
        tool: c.name,
        arguments: c.arguments,
      })),
      answer: reply.toolCalls.length ? null : (reply.content ?? ''),
      inputTokens: reply.inputTokens,
      outputTokens: reply.outputTokens,
    };
    const { value } = await this.store.once(
      run.id,
      `plan:${iteration}`,
      PlanDecision,
      decision,
      decisionEvents(decision, secretsOf(catalog)),
      {
        inputTokens: decision.inputTokens,
        outputTokens: decision.outputTokens,
        modelCalls: 1,
        costUsd: modelCostUsd(
          this.config.model.prices,
          { requested: this.config.model.plannerModel, replied: reply.model },
          reply,
        ),
      },
    );
    return value;
  }

  /**
   * Tool calls become a flow: a judge parent that starts once every act child is done (fan-in). Calls beyond
   * TRIAD_MAX_CALLS_PER_REPLY are refused here, on the record before the flow exists, and never become act jobs.
   */
  private async dispatch(runId: string, d: PlanDecision): Promise<void> {
    const opts = defaultJobOptions(this.config.jobAttempts);
    const judge = JudgeJob.parse({ runId, iteration: d.iteration, kind: d.toolCalls.length ? 'observe' : 'answer' });
    if (!d.toolCalls.length) {
      await addJob(this.judgeQueue, JOB_NAMES.judge, judge, { ...opts, jobId: jobIds.judge(runId, d.iteration) });
      return;
    }
    const cap = this.config.maxCallsPerReply;
    const calls = d.toolCalls.slice(0, cap);
    for (const c of d.toolCalls.slice(cap)) await this.refuseExcess(runId, d, c);
    await this.flows.add({
      name: JOB_NAMES.judge,
      queueName: QUEUES.judge,
      data: judge,
      opts: { ...opts, jobId: jobIds.judge(runId, d.iteration) },
      children: calls.map((c) => ({
        name: JOB_NAMES.act,
        queueName: QUEUES.act,
        data: ActJob.parse({ runId, iteration: d.iteration, stepId: c.stepId }),
        // A child that fails for good must not strand its parent: the judge reports the missing observation.
        opts: { ...opts, jobId: jobIds.act(runId, c.stepId), ignoreDependencyOnFailure: true },
      })),
    });
  }

  /** Records the observation of a call beyond the per-reply cap, once, as the executor would have. */
  private async refuseExcess(runId: string, d: PlanDecision, c: ToolCall): Promise<void> {
    const cap = this.config.maxCallsPerReply;
    const observation = observationError(
      'too_many_calls',
      `this reply asked for ${d.toolCalls.length} tool calls and at most ${cap} tool calls of one reply run: ` +
        `${c.tool} was not run; ask for it again in a later reply if it is still needed`,
    );
    const result: StepResult = {
      stepId: c.stepId,
      callId: c.callId,
      tool: c.tool,
      executor: 'planner',
      durationMs: 0,
      observation,
    };
    await this.store.once(runId, `step:${c.stepId}`, StepResult, result, [
      { type: 'observation', iteration: d.iteration, ...result },
    ]);
  }
}

/** Secret argument names per tool, for redacting them from the run's events. */
const secretsOf = (catalog: ToolSpec[]) => new Map(catalog.map((t) => [t.name, t.secretArguments]));

function decisionEvents(d: PlanDecision, secrets: Map<string, string[]>): NewRunEvent[] {
  const stage = d.iteration === 1 ? 'interpret' : 'plan';
  const thoughtText = d.thought ?? (d.toolCalls.length ? '' : 'proposing an answer');
  const events: NewRunEvent[] = [
    {
      type: 'thought',
      iteration: d.iteration,
      stage,
      text: thoughtText,
      model: d.model,
      inputTokens: d.inputTokens,
      outputTokens: d.outputTokens,
    },
  ];
  for (const c of d.toolCalls) {
    // The decision keeps the raw arguments for the executor; the event log, the model's replay and traces do not.
    const args = redactArguments(c.arguments, secrets.get(c.tool) ?? []);
    events.push({ type: 'tool.called', iteration: d.iteration, ...c, arguments: args });
  }
  if (d.answer !== null) events.push({ type: 'answer.proposed', iteration: d.iteration, answer: d.answer });
  return events;
}
