import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import {
  type ActJob,
  type Admission,
  type Observation,
  observationError,
  PlanDecision,
  RUN_REDIS,
  RunFinisher,
  type RunRecord,
  RunStore,
  redactArguments,
  redactValuesDeep,
  type TraceSpan as Span,
  StepResult,
  secretValues,
  type ToolCall,
  ToolCatalog,
  TRIAD_CONFIG,
  type TriadConfig,
  telemetryState,
  toolAllowed,
  triadMetrics,
  withRunSpan,
} from '@triad/shared';
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { ApprovalGate } from './approval-gate.js';
import { CancelListener } from './cancel-listener.js';
import { RedisToolMemory } from './tools/memory/redis-tool-memory.js';
import { secretArguments } from './tools/tool.js';
import { ToolRegistry } from './tools/tool-registry.js';
import { runTool } from './tools/tool-runner.js';
import { Workspace } from './tools/workspace.js';

/** The Act and Observe stages: run one tool call at most once and record its observation in the ledger. */
@Injectable()
export class ExecutorService implements OnApplicationBootstrap {
  constructor(
    private readonly store: RunStore,
    private readonly finisher: RunFinisher,
    private readonly catalog: ToolCatalog,
    private readonly registry: ToolRegistry,
    private readonly workspace: Workspace,
    private readonly gate: ApprovalGate,
    private readonly cancellations: CancelListener,
    @Inject(RUN_REDIS) private readonly redis: Redis,
    @Inject(TRIAD_CONFIG) private readonly config: TriadConfig,
  ) {}

  /** Publishes this executor's tools so planners can offer them to the model. */
  async onApplicationBootstrap(): Promise<void> {
    await this.catalog.publish(this.registry.specs());
  }

  /** Runs one step; a gated step may instead park its job (the gate throws DelayedError). */
  async act(job: Job, data: ActJob, token: string | undefined, signal: AbortSignal): Promise<StepResult> {
    const { runId, iteration, stepId } = data;
    const key = `step:${stepId}`;
    const recorded = await this.store.getOnce(runId, key, StepResult);
    if (recorded) return recorded;

    const [run, decision] = await Promise.all([
      this.store.get(runId),
      this.store.getOnce(runId, `plan:${iteration}`, PlanDecision),
    ]);
    const call = decision?.toolCalls.find((c) => c.stepId === stepId);
    if (!run || !call) throw new Error(`run ${runId} has no tool call ${stepId}`);
    const tool = this.registry.get(call.tool);
    const secrets = tool ? secretArguments(tool.input) : [];
    const attributes = toolSpanAttributes(call, secrets);
    const span = { runId, traceparent: run.traceparent, iteration, stepId, attributes };
    return withRunSpan(`execute_tool ${call.tool}`, span, (s) =>
      this.actTraced(s, job, token, run, iteration, call, signal, secretValues(call.arguments, secrets)),
    );
  }

  private async actTraced(
    span: Span,
    job: Job,
    token: string | undefined,
    run: RunRecord,
    iteration: number,
    call: ToolCall,
    signal: AbortSignal,
    secrets: string[],
  ): Promise<StepResult> {
    const [runId, stepId, key] = [run.id, call.stepId, `step:${call.stepId}`];
    const started = performance.now();
    const outcome = await this.observe(job, token, run, call, signal);
    // Whatever the tool saw or a remote echoed, a secret argument's value is never recorded, shown or traced.
    const observation = redactValuesDeep(outcome.observation, secrets);
    const exhausted = outcome.exhausted;
    recordToolOutcome(span, call.tool, observation, (performance.now() - started) / 1000);
    const result: StepResult = {
      stepId,
      callId: call.callId,
      tool: call.tool,
      executor: this.config.executorId,
      durationMs: Math.round(performance.now() - started),
      observation,
    };
    const event = { type: 'observation' as const, iteration, ...result };
    // usage.toolCalls was counted when the step was admitted (its reservation), not here.
    const recorded = (await this.store.once(runId, key, StepResult, result, [event])).value;
    // A used-up budget ends the run once the refused call is on record, so the run's history shows both.
    if (exhausted && !recorded.observation.ok && recorded.observation.error.code === 'budget_exceeded') {
      await this.finisher.finish(runId, {
        status: 'budget_exceeded',
        iteration: run.iteration,
        reason: exhausted,
        error: { code: 'budget_exceeded', message: exhausted },
      });
    }
    return recorded;
  }

  private async observe(
    job: Job,
    token: string | undefined,
    run: RunRecord,
    call: ToolCall,
    signal: AbortSignal,
  ): Promise<Outcome> {
    // The goal's allow-list first: a tool it does not allow is refused before anything else is looked at.
    if (!toolAllowed(run.request, call.tool)) return { observation: notAllowed(run, call) };
    let args = call.arguments;
    const tool = this.registry.get(call.tool);
    const gated = tool !== undefined && this.gate.requires(tool.risk, run);
    // A gated call is only checked before a human is asked, and admitted (its budget reserved) once approved.
    const refused = await this.admit(run, call, !gated);
    if (refused) return refused;
    if (tool && gated) {
      const gate = await this.gate.pass(job, token, run, call, {
        risk: tool.risk,
        secretArguments: secretArguments(tool.input),
      });
      if (!gate.pass) return { observation: gate.observation };
      args = gate.arguments;
      // The run may have ended, or used its budget up, while the step waited for its approval.
      const late = await this.admit(run, call, true);
      if (late) return late;
    }
    const cancel = new AbortController();
    const untrack = this.cancellations.track(run.id, cancel);
    try {
      const ctx = {
        signal: AbortSignal.any([signal, cancel.signal]),
        idempotencyKey: `${run.id}/${call.stepId}`,
        runId: run.id,
        stepId: call.stepId,
        goal: run.request?.goal ?? '',
        workspace: this.workspace,
        memory: new RedisToolMemory(this.redis, this.config.prefix, run.id),
      };
      const observation = await runTool(this.registry, { tool: call.tool, arguments: args }, ctx, {
        defaultTimeoutMs: this.config.toolTimeoutMs,
      });
      return { observation };
    } finally {
      untrack();
    }
  }

  /** Admits the step against the run's budget (atomically, see RunStore.admit); the refusal, or null to go on. */
  private async admit(run: RunRecord, call: ToolCall, reserve: boolean): Promise<Outcome | null> {
    const admission = await this.store.admit(run.id, call.stepId, 'tool', { reserve });
    return admission.admitted ? null : refusal(admission, call);
  }
}

/** The observation of a refused admission; a used-up limit other than maxToolCalls also ends the run. */
function refusal(admission: Exclude<Admission, { admitted: true }>, call: ToolCall): Outcome {
  if ('ended' in admission) {
    return { observation: observationError('cancelled', `the run is ${admission.ended}; the tool was not run`) };
  }
  const observation = observationError('budget_exceeded', `${admission.message}; ${call.tool} was not run`);
  // Used-up tool calls leave the model its answer: the judge ends the run once the iteration's observations are in.
  return admission.limit === 'maxToolCalls' ? { observation } : { observation, exhausted: admission.message };
}

function notAllowed(run: RunRecord, call: ToolCall): Observation {
  const allowed = run.request?.tools?.join(', ') || 'none';
  return observationError('tool_not_allowed', `${call.tool} is not allowed for this run (allowed tools: ${allowed})`);
}

/** What became of a call, and the used-up budget limit that ends its run, if one does. */
interface Outcome {
  observation: Observation;
  exhausted?: string;
}

function toolSpanAttributes(call: ToolCall, secretKeys: string[]) {
  return {
    'gen_ai.operation.name': 'execute_tool',
    'gen_ai.tool.name': call.tool,
    'gen_ai.tool.call.id': call.callId,
    // Arguments may carry anything the model saw: only with content capture on, and never a secret argument.
    ...(telemetryState().traceContent
      ? { 'gen_ai.tool.call.arguments': redactArguments(call.arguments, secretKeys) }
      : {}),
  };
}

function recordToolOutcome(span: Span, tool: string, observation: Observation, seconds: number): void {
  const errorType = observation.ok ? undefined : observation.error.code;
  if (errorType) span.setAttribute('error.type', errorType);
  if (telemetryState().traceContent) span.setAttribute('gen_ai.tool.call.result', JSON.stringify(observation));
  triadMetrics.toolCalled(tool, seconds, errorType);
}
