import type { ModelPrices } from '../config/triad-config.js';
import type { RunRecord } from '../contracts/run-record.js';

/**
 * Which limit of the run's budget is used up, or null. Checked before every model call and every tool call, so
 * a run stops at the first step that would go over. maxIterations is the judge's (it ends the last iteration).
 */
export function budgetExhausted(run: RunRecord, now = Date.now()): string | null {
  const budget = run.request?.budget;
  if (!budget) return null;
  const tokens = run.usage.inputTokens + run.usage.outputTokens;
  if (tokens >= budget.maxTokens) return `maxTokens: ${tokens} tokens used of ${budget.maxTokens}`;
  if (budget.maxCostUsd !== null && run.usage.costUsd >= budget.maxCostUsd) {
    return `maxCostUsd: $${run.usage.costUsd.toFixed(6)} spent of $${budget.maxCostUsd}`;
  }
  if (now - run.createdAt >= budget.timeoutMs) return `timeoutMs: run older than ${budget.timeoutMs} ms`;
  if (run.usage.toolCalls > budget.maxToolCalls) {
    return `maxToolCalls: ${run.usage.toolCalls} tool calls of ${budget.maxToolCalls}`;
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
