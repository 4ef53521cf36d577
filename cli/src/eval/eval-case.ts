import { GoalRequest, ReplayRunRequest } from '@triad/shared';
import { z } from 'zod';

// The `triad eval` dataset: JSON lines, each a goal (a GoalRequest's fields) with its expected result. This file owns
// the format; README "Regression evals" describes it.

/** What a case expects of its run's result (exactly one of exact, subset, rubric); the run must end with `status`. */
export const Expectation = z
  .strictObject({
    exact: z.json().optional().describe('the output object (deep-equal), or a string compared with the answer'),
    subset: z.record(z.string(), z.json()).optional().describe('each field given has this value in the output'),
    rubric: z.string().trim().min(1).optional().describe('graded by the configured model'),
    status: z.enum(['succeeded', 'failed', 'cancelled', 'budget_exceeded']).default('succeeded'),
  })
  .refine(
    (e) => ['exact', 'subset', 'rubric'].filter((k) => e[k as keyof typeof e] !== undefined).length === 1,
    'give exactly one of exact, subset, rubric',
  );
export type Expectation = z.infer<typeof Expectation>;

const CaseFields = z
  .object({
    name: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,100}$/, 'letters, digits, ".", "_" and "-", at most 100')
      .optional(),
    expect: Expectation,
    /** A recorded run to replay (POST /v1/runs/:id/replay) instead of running a goal. */
    replayOf: z.string().min(1).optional(),
    /** How to replay it (with replayOf only): e.g. `{ "liveModel": true, "model": "..." }` to try a model change. */
    replay: ReplayRunRequest.optional(),
  })
  .refine((f) => f.replay === undefined || f.replayOf !== undefined, {
    path: ['replay'],
    message: 'replay options need replayOf',
  });

/** One case of a dataset: its name, the goal to run (absent for a replay), and what it expects. */
export interface EvalCase {
  name: string;
  line: number;
  request: GoalRequest | null;
  replayOf: string | null;
  /** The case's own replay options; null: the command's (--live-model). */
  replay: ReplayRunRequest | null;
  expect: Expectation;
}

/** A dataset that does not parse: every bad line with its reason. */
export class DatasetError extends Error {
  override name = 'DatasetError';
}

/** Parses a JSONL dataset; throws a DatasetError naming each bad line (by number and path). */
export function parseDataset(text: string, source: string): EvalCase[] {
  const cases: EvalCase[] = [];
  const problems: string[] = [];
  const names = new Set<string>();
  for (const [i, raw] of text.split('\n').entries()) {
    const line = i + 1;
    if (!raw.trim()) continue;
    const parsed = parseLine(raw, line);
    if (typeof parsed === 'string') problems.push(`${source}:${line}: ${parsed}`);
    else if (names.has(parsed.name)) problems.push(`${source}:${line}: name "${parsed.name}" is used twice`);
    else {
      names.add(parsed.name);
      cases.push(parsed);
    }
  }
  if (problems.length) throw new DatasetError(problems.join('\n'));
  if (!cases.length) throw new DatasetError(`${source}: no cases`);
  return cases;
}

function parseLine(raw: string, line: number): EvalCase | string {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    return `not JSON (${(err as Error).message})`;
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) return 'must be a JSON object';
  const { name, expect, replayOf, replay, ...goal } = json as Record<string, unknown>;
  const fields = CaseFields.safeParse({ name, expect, replayOf, replay });
  if (!fields.success) return issues(fields.error);
  const caseName = fields.data.name ?? `line-${line}`;
  const common = { name: caseName, line, expect: fields.data.expect };
  if (fields.data.replayOf !== undefined) {
    if (Object.keys(goal).length) return `a replayOf line replays its run: ${Object.keys(goal).join(', ')} not allowed`;
    return { ...common, request: null, replayOf: fields.data.replayOf, replay: fields.data.replay ?? null };
  }
  const request = GoalRequest.safeParse(goal);
  if (!request.success) return issues(request.error);
  return { ...common, request: request.data, replayOf: null, replay: null };
}

const issues = (error: z.ZodError) =>
  error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
