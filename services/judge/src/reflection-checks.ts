import type { RunEvent, StepResult, ToolCall } from '@triad/shared';

/** A canonical form of a call, so `{"a":1,"b":2}` and `{ "b": 2, "a": 1 }` count as the same call. */
export function callSignature(tool: string, rawArguments: string): string {
  try {
    return `${tool}:${JSON.stringify(sortKeys(JSON.parse(rawArguments)))}`;
  } catch {
    return `${tool}:${rawArguments.trim()}`;
  }
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, x]) => [k, sortKeys(x)]),
    );
  }
  return v;
}

/**
 * The cheap checks the judge runs on every iteration, with no model call: failed calls, calls repeated from
 * an earlier iteration, and a streak of iterations where every call failed. Each finding is one sentence.
 */
export function reflectionChecks(
  iteration: number,
  calls: ToolCall[],
  results: StepResult[],
  history: RunEvent[],
): string[] {
  const checks: string[] = [];
  const failed = results.filter((r) => !r.observation.ok);
  if (failed.length) {
    const what = failed.map((r) => `${r.tool} (${r.observation.ok ? '' : r.observation.error.code})`).join(', ');
    checks.push(`${failed.length} of ${results.length} tool calls failed: ${what}.`);
  }
  const earlier = new Map<string, number>();
  for (const e of history) {
    if (e.type === 'tool.called' && e.iteration < iteration)
      earlier.set(callSignature(e.tool, e.arguments), e.iteration);
  }
  for (const c of calls) {
    const seen = earlier.get(callSignature(c.tool, c.arguments));
    if (seen !== undefined) {
      checks.push(
        `Repeated call: ${c.tool} with the same arguments was already made in iteration ${seen}; reuse its result.`,
      );
    }
  }
  if (failed.length && failed.length === results.length && allFailedBefore(iteration, history, 2)) {
    checks.push('Every tool call has failed for three iterations in a row: change approach.');
  }
  return checks;
}

/** Whether each of the `count` iterations before this one had observations, all of them errors. */
function allFailedBefore(iteration: number, history: RunEvent[], count: number): boolean {
  for (let n = iteration - count; n < iteration; n++) {
    const obs = history.filter((e) => e.type === 'observation' && e.iteration === n);
    if (n < 1 || !obs.length || obs.some((e) => e.type === 'observation' && e.observation.ok)) return false;
  }
  return true;
}
