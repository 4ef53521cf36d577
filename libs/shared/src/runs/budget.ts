import type { ModelPrices } from '../config/triad-config.js';
import type { RunRecord } from '../contracts/run-record.js';

/** The run-wide limits of a budget that stop a step before it starts. maxIterations is the judge's. */
export type BudgetLimit = 'maxTokens' | 'maxCostUsd' | 'timeoutMs' | 'maxToolCalls';

/** How a used-up limit is reported, on the run and to the model: the limit's name first, then the figures. */
export function budgetMessage(limit: BudgetLimit, used: number, max: number): string {
  switch (limit) {
    case 'maxTokens':
      return `maxTokens: ${used} tokens used of ${max}`;
    case 'maxCostUsd':
      return `maxCostUsd: $${used.toFixed(6)} spent of $${max}`;
    case 'timeoutMs':
      return `timeoutMs: run older than ${max} ms`;
    case 'maxToolCalls':
      return `maxToolCalls: ${used} tool calls of ${max}`;
  }
}

/**
 * Which limit of the run's budget is used up, or null, from a run record read earlier: the judge's end-of-iteration
 * check. Whether a step may start is decided atomically by `RunStore.admit`, which applies the same limits.
 */
export function budgetExhausted(run: RunRecord, now = Date.now()): string | null {
  const budget = run.request?.budget;
  if (!budget) return null;
  const tokens = run.usage.inputTokens + run.usage.outputTokens;
  if (tokens >= budget.maxTokens) return budgetMessage('maxTokens', tokens, budget.maxTokens);
  if (budget.maxCostUsd !== null && run.usage.costUsd >= budget.maxCostUsd) {
    return budgetMessage('maxCostUsd', run.usage.costUsd, budget.maxCostUsd);
  }
  if (now - run.createdAt >= budget.timeoutMs) return budgetMessage('timeoutMs', now - run.createdAt, budget.timeoutMs);
  if (run.usage.toolCalls > budget.maxToolCalls) {
    return budgetMessage('maxToolCalls', run.usage.toolCalls, budget.maxToolCalls);
  }
  return null;
}

/** The cost in USD of one model call, by the replying model's price, else the requested model's; 0 without one. */
export function modelCostUsd(
  prices: ModelPrices,
  models: { requested: string; replied: string },
  tokens: { inputTokens: number; outputTokens: number },
): number {
  const price = prices[models.replied] ?? prices[models.requested];
  if (!price) return 0;
  return (tokens.inputTokens * price.inputPerMTok + tokens.outputTokens * price.outputPerMTok) / 1_000_000;
}
