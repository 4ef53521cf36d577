import type { TriadClient } from '@triad/client';
import type { GoalRequest, ReasoningModel, RunRecord } from '@triad/shared';
import type { EvalCase } from './eval-case.js';
import { exactMismatch, resultOf, subsetMismatch } from './expectations.js';
import { gradeRubric } from './rubric-grader.js';

/** How a case came out: passed, failed (the result did not meet the expectation) or error (no result to judge). */
export interface CaseResult {
  name: string;
  outcome: 'passed' | 'failed' | 'error';
  /** Why it failed or erred; the grader's reason for a passed rubric. */
  message: string | null;
  runId: string | null;
  runStatus: RunRecord['status'] | null;
  /** The run's own duration (intake to end), ms. */
  latencyMs: number;
  tokens: number;
  costUsd: number;
  /** Tokens the rubric grader used (not part of the run's). */
  gradingTokens: number;
}

/** The model a rubric is graded with. */
export interface Grader {
  model: ReasoningModel;
  modelName: string;
}

export interface EvalOptions {
  client: TriadClient;
  /** Needed by rubric cases only; a rubric case without one is an error. */
  grader: Grader | null;
  concurrency: number;
  signal: AbortSignal;
  /** Tags each run's metadata with the dataset's name. */
  dataset: string;
  /** replayOf cases without their own options ask a live model (recorded tool results answer matching calls). */
  liveModel: boolean;
  onResult?: (r: CaseResult) => void;
}

/** Runs every case through the gateway (at most `concurrency` at once); results in the dataset's order. */
export async function runEval(cases: EvalCase[], opts: EvalOptions): Promise<CaseResult[]> {
  const results: CaseResult[] = new Array(cases.length);
  let next = 0;
  const worker = async () => {
    while (next < cases.length && !opts.signal.aborted) {
      const i = next++;
      results[i] = await runCase(cases[i] as EvalCase, opts);
      opts.onResult?.(results[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency, cases.length) }, worker));
  if (opts.signal.aborted) throw new Error('interrupted');
  return results;
}

const blank = (c: EvalCase): CaseResult => ({
  name: c.name,
  outcome: 'error',
  message: null,
  runId: null,
  runStatus: null,
  latencyMs: 0,
  tokens: 0,
  costUsd: 0,
  gradingTokens: 0,
});

async function runCase(c: EvalCase, opts: EvalOptions): Promise<CaseResult> {
  const result = blank(c);
  let run: RunRecord;
  let goal: string;
  try {
    const started = c.request ? await submitCase(c, c.request, opts) : await replayCase(c, opts);
    result.runId = started.runId;
    goal = started.goal;
    run = await opts.client.waitFor(started.runId, { timeoutMs: started.timeoutMs + 30_000, signal: opts.signal });
  } catch (err) {
    return { ...result, message: (err as Error).message };
  }
  Object.assign(result, {
    runStatus: run.status,
    latencyMs: Math.max(0, (run.finishedAt ?? run.updatedAt) - run.createdAt),
    tokens: run.usage.inputTokens + run.usage.outputTokens,
    costUsd: run.usage.costUsd,
  });
  if (run.status !== c.expect.status) {
    const why = run.error ? ` (${run.error.code}: ${run.error.message})` : '';
    return { ...result, outcome: 'failed', message: `run ${run.status}${why}, expected ${c.expect.status}` };
  }
  return judge(c, goal, run, result, opts);
}

interface StartedCase {
  runId: string;
  /** The goal the rubric is graded against. */
  goal: string;
  timeoutMs: number;
}

async function submitCase(c: EvalCase, request: GoalRequest, opts: EvalOptions): Promise<StartedCase> {
  const metadata = { ...request.metadata, 'triad.eval': `${opts.dataset}#${c.name}`.slice(0, 1024) };
  const { runId } = await opts.client.submit({ ...request, metadata });
  return { runId, goal: request.goal, timeoutMs: request.budget.timeoutMs };
}

/** Replays the recorded run (its recorded replies, or a live model with --live-model or the line's options). */
async function replayCase(c: EvalCase, opts: EvalOptions): Promise<StartedCase> {
  const parentId = c.replayOf as string;
  const parent = await opts.client.get(parentId, opts.signal);
  if (!parent.request) throw new Error(`replayOf ${parentId}: the run has no goal to replay (rejected at intake)`);
  const { runId } = await opts.client.replay(parentId, c.replay ?? { liveModel: opts.liveModel });
  return { runId, goal: parent.request.goal, timeoutMs: parent.request.budget.timeoutMs };
}

async function judge(
  c: EvalCase,
  goal: string,
  run: RunRecord,
  result: CaseResult,
  opts: EvalOptions,
): Promise<CaseResult> {
  const { exact, subset, rubric } = c.expect;
  if (exact !== undefined) return verdict(result, exactMismatch(exact, run));
  if (subset !== undefined) return verdict(result, subsetMismatch(subset, resultOf(run)));
  if (!opts.grader) return { ...result, message: 'a rubric needs a model to grade it, and none is configured' };
  try {
    const { grade, reply } = await gradeRubric(opts.grader.model, opts.grader.modelName, {
      goal,
      answer: run.answer ?? (run.error ? `(no answer: ${run.error.message})` : '(no answer)'),
      rubric: rubric as string,
      signal: opts.signal,
    });
    const gradingTokens = reply.inputTokens + reply.outputTokens;
    return { ...result, gradingTokens, outcome: grade.pass ? 'passed' : 'failed', message: grade.reason || null };
  } catch (err) {
    return { ...result, message: `grading the rubric failed: ${(err as Error).message}` };
  }
}

const verdict = (result: CaseResult, mismatch: string | null): CaseResult =>
  mismatch ? { ...result, outcome: 'failed', message: mismatch } : { ...result, outcome: 'passed' };
