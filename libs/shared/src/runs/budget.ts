import type { RunRecord } from '../contracts/run-record.js';

/** Which limit of the run's budget is used up before the next model call, or null. */
export function budgetExhausted(run: RunRecord, now = Date.now()): string | null {
  const budget = run.request?.budget;
  if (!budget) return null;
  const tokens = run.usage.inputTokens + run.usage.outputTokens;
  if (tokens >= budget.maxTokens) return `maxTokens: ${tokens} tokens used of ${budget.maxTokens}`;
  if (now - run.createdAt >= budget.timeoutMs) return `timeoutMs: run older than ${budget.timeoutMs} ms`;
  if (run.usage.toolCalls > budget.maxToolCalls) {
    return `maxToolCalls: ${run.usage.toolCalls} tool calls of ${budget.maxToolCalls}`;
  }
  return null;
}
