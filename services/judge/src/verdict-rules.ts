import type { Budget, RunOutput, Verdict } from '@triad/shared';

export interface IterationFacts {
  iteration: number;
  budget: Budget;
  toolCallsUsed: number;
  checks: string[];
  critique: string | null;
}

/** After an iteration's tool calls: go on to the next iteration, or stop on an exhausted budget. */
export function verdictAfterObservations(f: IterationFacts): Verdict {
  if (f.iteration >= f.budget.maxIterations) {
    return finish(
      'budget_exceeded',
      `maxIterations: ${f.iteration} of ${f.budget.maxIterations} used with no answer`,
      f,
    );
  }
  if (f.toolCallsUsed >= f.budget.maxToolCalls) {
    return finish(
      'budget_exceeded',
      `maxToolCalls: ${f.toolCallsUsed} of ${f.budget.maxToolCalls} used with no answer`,
      f,
    );
  }
  const critique = [f.critique, ...f.checks].filter(Boolean).join(' ') || null;
  return { next: 'plan', critique, checks: f.checks };
}

/** On a proposed answer: accept it (run succeeded), send it back with the critique, or stop when no iteration is left. */
export function verdictOnAnswer(
  f: IterationFacts & { answer: string; accepted: boolean; output?: RunOutput | null },
): Verdict {
  if (f.accepted) {
    const output = f.output ? { output: f.output } : {};
    return {
      next: 'finish',
      status: 'succeeded',
      answer: f.answer,
      ...output,
      reason: 'answer accepted',
      checks: f.checks,
    };
  }
  const critique = f.critique ?? 'The answer was not accepted.';
  if (f.iteration >= f.budget.maxIterations) {
    return finish(
      'budget_exceeded',
      `maxIterations: ${f.budget.maxIterations} used; last answer rejected: ${critique}`,
      f,
    );
  }
  return { next: 'plan', critique, checks: f.checks };
}

/**
 * On a proposed answer that is not valid against the goal's outputSchema: send it back with the critique naming each
 * failing path, or, with no iteration left, end the run failed with `output_invalid`.
 */
export function verdictOnInvalidOutput(f: IterationFacts & { problems: string[] }): Verdict {
  if (f.iteration >= f.budget.maxIterations) {
    const reason = `output_invalid: no answer matched the output schema in ${f.budget.maxIterations} iterations; last: ${f.problems.join('; ')}`;
    return { next: 'finish', status: 'failed', answer: null, code: 'output_invalid', reason, checks: f.checks };
  }
  return { next: 'plan', critique: f.critique, checks: f.checks };
}

/** A budget limit used up before the judge's own model call: the run ends, naming the limit. */
export function verdictOnExhaustedBudget(reason: string, checks: string[]): Verdict {
  return { next: 'finish', status: 'budget_exceeded', answer: null, reason, checks };
}

function finish(status: 'budget_exceeded' | 'failed', reason: string, f: IterationFacts): Verdict {
  return { next: 'finish', status, answer: null, reason, checks: f.checks };
}
