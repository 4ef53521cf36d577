import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { Observation } from '@triad/shared';
import {
  type ActJob,
  observationError,
  PlanDecision,
  RunStore,
  StepResult,
  ToolCatalog,
  TRIAD_CONFIG,
  type TriadConfig,
} from '@triad/shared';
import { ToolRegistry } from './tools/tool-registry.js';
import { runTool } from './tools/tool-runner.js';
import { Workspace } from './tools/workspace.js';

/** The Act and Observe stages: run one tool call at most once and record its observation in the ledger. */
@Injectable()
export class ExecutorService implements OnApplicationBootstrap {
  constructor(
    private readonly store: RunStore,
    private readonly catalog: ToolCatalog,
    private readonly registry: ToolRegistry,
    private readonly workspace: Workspace,
    @Inject(TRIAD_CONFIG) private readonly config: TriadConfig,
  ) {}

  /** Publishes this executor's tools so planners can offer them to the model. */
  async onApplicationBootstrap(): Promise<void> {
    await this.catalog.publish(this.registry.specs());
  }

  async act(job: ActJob, signal: AbortSignal): Promise<StepResult> {
    const { runId, iteration, stepId } = job;
    const key = `step:${stepId}`;
    const recorded = await this.store.getOnce(runId, key, StepResult);
    if (recorded) return recorded;

    const [run, decision] = await Promise.all([
      this.store.get(runId),
      this.store.getOnce(runId, `plan:${iteration}`, PlanDecision),
    ]);
    const call = decision?.toolCalls.find((c) => c.stepId === stepId);
    if (!run || !call) throw new Error(`run ${runId} has no tool call ${stepId}`);

    const started = performance.now();
    let observation: Observation;
    if (run.status !== 'running') {
      observation = observationError('cancelled', `the run is ${run.status}; the tool was not run`);
    } else if (run.request && run.usage.toolCalls >= run.request.budget.maxToolCalls) {
      observation = observationError('budget_exceeded', `maxToolCalls (${run.request.budget.maxToolCalls}) is used up`);
    } else {
      const ctx = { signal, idempotencyKey: `${runId}/${stepId}`, runId, stepId, workspace: this.workspace };
      observation = await runTool(this.registry, call, ctx, { defaultTimeoutMs: this.config.toolTimeoutMs });
    }
    const result: StepResult = {
      stepId,
      callId: call.callId,
      tool: call.tool,
      executor: this.config.executorId,
      durationMs: Math.round(performance.now() - started),
      observation,
    };
    const event = { type: 'observation' as const, iteration, ...result };
    const ran = observation.ok || !['cancelled', 'budget_exceeded'].includes(observation.error.code);
    return (await this.store.once(runId, key, StepResult, result, [event], { toolCalls: ran ? 1 : 0 })).value;
  }
}
