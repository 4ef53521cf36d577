import {
  type ForkOf,
  isTerminal,
  PlanDecision,
  type RunRecord,
  type StepResult,
  type StoredRunEvent,
  storeRunId,
  Verdict,
} from '@triad/contracts';
import { RECALLED_LESSONS } from '../memory/lesson-ledger.js';
import type { ChatReply } from '../reasoning/chat.js';
import type { NewRunEvent, RunStore } from '../store/run-store.js';

// Forks and replays start from another run's ledger. A fork copies the parent's history before its first live
// iteration into its own ledger and event stream (so the loop finds those stages recorded and never runs them again);
// a replay copies the parent's whole ledger under `rec:` names (its recording), which the loop plays from.

/** Where a replay keeps its parent's ledger entries, in its own ledger: `rec:<name>`. */
export const RECORDING_PREFIX = 'rec:';

/** Events that belong to an iteration's history (a fork copies them); the run's own lifecycle events are its own. */
const HISTORY_EVENTS = new Set<StoredRunEvent['type']>([
  'thought',
  'tool.called',
  'observation',
  'answer.proposed',
  'reflection',
  'verdict',
  'approval.requested',
  'approval.decided',
  // The lessons of past runs its first plan was given: every later plan request repeats them.
  'memory.recalled',
]);

/** The iteration a run starts at: a fork's first live one, else 1. */
export const startIteration = (request: { forkOf?: ForkOf } | null | undefined): number =>
  request?.forkOf?.iteration ?? 1;

/** A parent run with what a fork or a replay needs of it. */
export interface ParentRun {
  run: RunRecord;
  events: StoredRunEvent[];
  ledger: Record<string, string>;
}

/** Why a fork or replay of a parent cannot start: `invalid` (400) or `conflict` (409). */
export interface LineageRefusal {
  code: 'invalid' | 'conflict';
  message: string;
}

/** The parent run (by the child's tenant and the parent's run id) with its events and ledger, or null if gone. */
export async function readParent(store: RunStore, tenant: string, runId: string): Promise<ParentRun | null> {
  const id = storeRunId(tenant, runId);
  const [run, events, ledger] = await Promise.all([store.get(id), store.events(id), store.ledger(id)]);
  return run ? { run, events, ledger } : null;
}

/**
 * Whether a fork from `iteration` may start: every earlier iteration of the parent must have ended in a verdict that
 * continued the loop (its history is complete and the parent went on to `iteration`).
 */
export function forkRefusal(parent: ParentRun, iteration: number, maxIterations: number): LineageRefusal | null {
  const id = parent.run.request?.runId ?? parent.run.id;
  if (!parent.run.request) return { code: 'invalid', message: `run ${id} was rejected at intake: nothing to fork` };
  if (iteration > maxIterations) {
    return {
      code: 'invalid',
      message: `fromIteration ${iteration} is beyond the fork's maxIterations ${maxIterations}`,
    };
  }
  for (let i = 1; i < iteration; i++) {
    const raw = parent.ledger[`verdict:${i}`];
    if (!raw) {
      if (isTerminal(parent.run.status)) {
        return { code: 'invalid', message: `run ${id} ended in iteration ${parent.run.iteration}: fork from 1..${i}` };
      }
      return { code: 'conflict', message: `run ${id} has not finished iteration ${i} yet: fork from 1..${i}` };
    }
    const verdict = Verdict.parse(JSON.parse(raw));
    if (verdict.next === 'finish') {
      return { code: 'invalid', message: `run ${id} ended in iteration ${i}: fork from 1..${i}` };
    }
  }
  return null;
}

/** Whether a replay of the parent may start: it must have ended, with its data still in Redis. */
export function replayRefusal(parent: ParentRun): LineageRefusal | null {
  const id = parent.run.request?.runId ?? parent.run.id;
  if (!parent.run.request) return { code: 'invalid', message: `run ${id} was rejected at intake: nothing to replay` };
  if (!isTerminal(parent.run.status)) return { code: 'conflict', message: `run ${id} is still running` };
  return null;
}

/** A fork's seed: the parent's ledger entries and history events of the iterations before `forkOf.iteration`. */
export function forkSeed(parent: ParentRun, forkOf: ForkOf) {
  const before = (i: number) => i >= 1 && i < forkOf.iteration;
  const ledger: Record<string, string> = {};
  for (const [name, value] of Object.entries(parent.ledger)) {
    const [kind, at] = name.split(':') as [string, string | undefined];
    const iteration = kind === 'step' ? Number(at?.split('-')[0]) : Number(at);
    if ((kind === 'plan' || kind === 'verdict' || kind === 'step') && before(iteration)) ledger[name] = value;
  }
  // A fork that copies the first plan keeps the lessons it was given (and does not search again).
  const recalled = parent.ledger[RECALLED_LESSONS];
  if (recalled !== undefined && before(1)) ledger[RECALLED_LESSONS] = recalled;
  const events = parent.events
    .filter((e) => before(e.iteration) && HISTORY_EVENTS.has(e.type))
    .map(({ id: _id, ...e }) => e as NewRunEvent);
  return { ledger, events, iteration: forkOf.iteration };
}

/**
 * A replay's seed: the parent's whole ledger as its recording, and each step's approval events (`rec:approvals:<stepId>`),
 * which a played step repeats, since no gate is asked again; it starts at iteration 1 with no history.
 */
export function replaySeed(parent: ParentRun) {
  const ledger = Object.fromEntries(Object.entries(parent.ledger).map(([k, v]) => [`${RECORDING_PREFIX}${k}`, v]));
  const approvals = new Map<string, NewRunEvent[]>();
  for (const { id: _id, ...e } of parent.events) {
    if (e.type !== 'approval.requested' && e.type !== 'approval.decided') continue;
    approvals.set(e.stepId, [...(approvals.get(e.stepId) ?? []), e as NewRunEvent]);
  }
  for (const [stepId, events] of approvals) ledger[recordedApprovals(stepId)] = JSON.stringify(events);
  return { ledger, events: [] as NewRunEvent[], iteration: 1 };
}

/** Where a replay's recording keeps a step's approval events. */
export const recordedApprovals = (stepId: string) => `${RECORDING_PREFIX}approvals:${stepId}`;

/** The planner's model reply recorded in a decision, as the model gave it. */
export function replyOfDecision(raw: string): ChatReply {
  const d = PlanDecision.parse(JSON.parse(raw));
  return {
    model: d.model,
    content: d.toolCalls.length ? d.thought : d.answer,
    toolCalls: d.toolCalls.map((c) => ({ id: c.callId, name: c.tool, arguments: c.arguments })),
    finishReason: d.toolCalls.length ? 'tool_calls' : 'stop',
    inputTokens: d.inputTokens,
    outputTokens: d.outputTokens,
  };
}

/** The judge's model reply recorded with a verdict (null: the judge asked no model then). */
export function replyOfVerdict(raw: string): ChatReply | null {
  const review = Verdict.parse(JSON.parse(raw)).review;
  return review ? { ...review, toolCalls: [], finishReason: 'stop' } : null;
}

/**
 * The recorded result of a tool call with the same tool and the same arguments (compared as canonical JSON: key order
 * and spacing do not matter), or null. Steps of the same iteration are preferred.
 */
export function matchRecordedCall(
  ledger: Record<string, string | null>,
  call: { tool: string; arguments: string },
  iteration: number,
): StepResult | null {
  const wanted = canonicalArguments(call.arguments);
  const matches: { iteration: number; stepId: string }[] = [];
  for (const [name, raw] of Object.entries(ledger)) {
    if (!raw || !name.startsWith(`${RECORDING_PREFIX}plan:`)) continue;
    const d = PlanDecision.parse(JSON.parse(raw));
    for (const c of d.toolCalls) {
      if (c.tool === call.tool && canonicalArguments(c.arguments) === wanted) {
        matches.push({ iteration: d.iteration, stepId: c.stepId });
      }
    }
  }
  matches.sort(
    (a, b) => Number(b.iteration === iteration) - Number(a.iteration === iteration) || a.iteration - b.iteration,
  );
  for (const m of matches) {
    const raw = ledger[`${RECORDING_PREFIX}step:${m.stepId}`];
    if (raw) return JSON.parse(raw) as StepResult;
  }
  return null;
}

/** Tool arguments as canonical JSON (sorted keys, no spacing); text that is not JSON is compared as it is. */
export function canonicalArguments(text: string): string {
  try {
    return JSON.stringify(sortKeys(JSON.parse(text)));
  } catch {
    return text;
  }
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}
