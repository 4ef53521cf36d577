import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import {
  type ActStage,
  type ActView,
  type Admission,
  type Observation,
  observationError,
  type RedisClient,
  RUN_REDIS,
  type RunRecord,
  RunStore,
  redactArguments,
  redactValuesDeep,
  SEMANTIC_MEMORY,
  type SemanticMemory,
  type TraceSpan as Span,
  type StageContext,
  type StepResult,
  secretValues,
  type ToolCall,
  ToolCatalog,
  TRIAD_CONFIG,
  type TriadConfig,
  telemetryState,
  toolAllowed,
  triadMetrics,
} from '@triad/shared';
import { ApprovalGate } from './approval-gate.js';
import { CancelListener } from './cancel-listener.js';
import { RedisToolMemory } from './tools/memory/redis-tool-memory.js';
import { TenantSemanticMemory } from './tools/memory/tenant-semantic-memory.js';
import { secretArguments } from './tools/tool.js';
import { ToolRegistry } from './tools/tool-registry.js';
import { runTool } from './tools/tool-runner.js';
import { Workspace } from './tools/workspace.js';

/** The Act and Observe stages: run one tool call; the run loop records its observation in the ledger once. */
@Injectable()
export class ExecutorService implements ActStage, OnApplicationBootstrap {
  constructor(
    private readonly store: RunStore,
    private readonly catalog: ToolCatalog,
    private readonly registry: ToolRegistry,
    private readonly workspace: Workspace,
    private readonly gate: ApprovalGate,
    private readonly cancellations: CancelListener,
    @Inject(RUN_REDIS) private readonly redis: RedisClient,
    @Inject(TRIAD_CONFIG) private readonly config: TriadConfig,
    @Inject(SEMANTIC_MEMORY) private readonly semanticMemory: SemanticMemory,
  ) {}

  /** Publishes this executor's tools so planners can offer them to the model. */
  async onApplicationBootstrap(): Promise<void> {
    await this.catalog.publish(this.registry.specs());
  }

  /** Span attributes of a tool call: its arguments only with content capture on, and never a secret argument. */
  spanAttributes(call: ToolCall) {
    const tool = this.registry.get(call.tool);
    return toolSpanAttributes(call, tool ? secretArguments(tool.input) : []);
  }

  /** Runs one step (a gated step may instead park until a decision) and returns what to record in the ledger. */
  async execute(view: ActView, span: Span, ctx: StageContext): Promise<{ result: StepResult; exhausted?: string }> {
    const { call } = view;
    const tool = this.registry.get(call.tool);
    const secrets = secretValues(call.arguments, tool ? secretArguments(tool.input) : []);
    const started = performance.now();
    const outcome = await this.observe(view, ctx);
    // Whatever the tool saw or a remote echoed, a secret argument's value is never recorded, shown or traced.
    const observation = redactValuesDeep(outcome.observation, secrets);
    recordToolOutcome(span, call.tool, observation, (performance.now() - started) / 1000);
    const result: StepResult = {
      stepId: call.stepId,
      callId: call.callId,
      tool: call.tool,
      executor: this.config.executorId,
      durationMs: Math.round(performance.now() - started),
      observation,
    };
    // usage.toolCalls was counted when the step was admitted (its reservation), not here.
    return { result, exhausted: outcome.exhausted };
  }

  private async observe(view: ActView, ctx: StageContext): Promise<Outcome> {
    const { run, call } = view;
    // The goal's allow-list first: a tool it does not allow is refused before anything else is looked at.
    if (!toolAllowed(run.request, call.tool)) return { observation: notAllowed(run, call) };
    let args = call.arguments;
    const tool = this.registry.get(call.tool);
    const gated = tool !== undefined && this.gate.requires(tool.risk, run);
    // A gated call is only checked before a human is asked, and admitted (its budget reserved) once approved.
    const refused = await admit(view, !gated);
    if (refused) return refused;
    if (tool && gated) {
      const gate = await this.gate.pass(ctx, run, call, {
        risk: tool.risk,
        secretArguments: secretArguments(tool.input),
      });
      if (!gate.pass) return { observation: gate.observation };
      args = gate.arguments;
      // The run may have ended, or used its budget up, while the step waited for its approval.
      const late = await admit(view, true);
      if (late) return late;
    }
    const cancel = new AbortController();
    const untrack = this.cancellations.track(run.id, cancel);
    try {
      const toolCtx = {
        signal: AbortSignal.any([ctx.signal, cancel.signal]),
        idempotencyKey: `${run.id}/${call.stepId}`,
        runId: run.id,
        stepId: call.stepId,
        goal: run.request?.goal ?? '',
        workspace: this.workspace,
        memory: new RedisToolMemory(this.redis, this.store.keys, run.id),
        semanticMemory: new TenantSemanticMemory(this.semanticMemory, run.id),
      };
      const observation = await runTool(this.registry, { tool: call.tool, arguments: args }, toolCtx, {
        defaultTimeoutMs: this.config.toolTimeoutMs,
      });
      return { observation };
    } finally {
      untrack();
    }
  }
}

/** Admits the step against the run's budget (atomically, see RunStore.admit); the refusal, or null to go on. */
async function admit(view: ActView, reserve: boolean): Promise<Outcome | null> {
  const admission = await view.admit(reserve);
  return admission.admitted ? null : refusal(admission, view.call);
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
