import { Inject, Injectable } from '@nestjs/common';
import {
  modelCostUsd,
  modelRefusal,
  type NewRunEvent,
  type PlanDecision,
  type PlanView,
  type Produced,
  REASONING_MODEL,
  type ReasoningModel,
  redactArguments,
  stepIdOf,
  ToolCatalog,
  type ToolSpec,
  TRIAD_CONFIG,
  type TriadConfig,
  TriadError,
} from '@triad/shared';
import { buildConversation } from './conversation.js';
import { LessonRecall } from './lesson-recall.js';
import { toolsForRun } from './planner-tools.js';

/** The Interpret and Plan stages: ask the model what to do next; the run loop records and hands it on. */
@Injectable()
export class PlannerService {
  constructor(
    private readonly catalog: ToolCatalog,
    @Inject(REASONING_MODEL) private readonly model: ReasoningModel,
    @Inject(TRIAD_CONFIG) private readonly config: TriadConfig,
    private readonly recall: LessonRecall,
  ) {}

  /** Asks the model for this iteration's decision: a thought and tool calls, or an answer; with its events and usage. */
  async decide(view: PlanView, signal?: AbortSignal): Promise<Produced<PlanDecision>> {
    const { run, iteration, events } = view;
    const request = run.request;
    if (!request) throw new Error(`run ${run.id} has no request`);
    const catalog = await this.catalog.list();
    // Retryable: executors publish their tools when they start, and may simply not be up yet.
    if (!catalog.length) throw new TriadError('internal_error', 'no executor has published its tools yet', true);
    // The run's own model (a fork's), else the server's; a replay plays its recorded reply and asks no model.
    const model = request.model ?? this.config.model.plannerModel;
    // Intake refused a model the deployment does not allow; this holds if the setting narrowed since.
    const refused = view.recorded ? null : modelRefusal(this.config, request);
    if (refused) throw new TriadError('invalid_goal', refused, false);
    // A lesson is context only: the executors enforce the goal's tools, approvals and budget whatever it says.
    const lessons = view.recorded ? [] : await this.recall.lessonsFor(view);
    const reply =
      view.recorded ??
      (await this.model.chat({
        model,
        messages: buildConversation(request, events, lessons),
        tools: toolsForRun(catalog, request),
        secretArguments: Object.fromEntries(secretsOf(catalog)),
        // A typed result: the model's final answer (a reply without tool calls) is structured output against it.
        ...(request.outputSchema ? { jsonSchema: { name: 'final_answer', schema: request.outputSchema } } : {}),
        signal,
      }));
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
    return {
      value: decision,
      events: decisionEvents(decision, secretsOf(catalog)),
      usage: {
        inputTokens: decision.inputTokens,
        outputTokens: decision.outputTokens,
        modelCalls: 1,
        costUsd: modelCostUsd(this.config.model.prices, { requested: model, replied: reply.model }, reply),
      },
    };
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
