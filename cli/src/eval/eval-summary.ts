import type { CaseResult } from './eval-runner.js';

/** The dataset's figures: pass rate and the runs' cost, tokens and latency. */
export interface EvalSummary {
  cases: number;
  passed: number;
  failed: number;
  errors: number;
  passRate: number;
  tokens: number;
  gradingTokens: number;
  costUsd: number;
  latencyMs: { p50: number; p95: number; max: number };
  wallMs: number;
}

/** Sums up the results; `wallMs` is how long the whole eval took. */
export function summarize(results: CaseResult[], wallMs: number): EvalSummary {
  const count = (o: CaseResult['outcome']) => results.filter((r) => r.outcome === o).length;
  const latencies = results.filter((r) => r.runStatus !== null).map((r) => r.latencyMs);
  const passed = count('passed');
  return {
    cases: results.length,
    passed,
    failed: count('failed'),
    errors: count('error'),
    passRate: results.length ? passed / results.length : 0,
    tokens: results.reduce((n, r) => n + r.tokens, 0),
    gradingTokens: results.reduce((n, r) => n + r.gradingTokens, 0),
    costUsd: results.reduce((n, r) => n + r.costUsd, 0),
    latencyMs: { p50: percentile(latencies, 0.5), p95: percentile(latencies, 0.95), max: Math.max(0, ...latencies) },
    wallMs,
  };
}

/** Nearest-rank percentile; 0 for no values. */
function percentile(values: number[], p: number): number {
  if (!values.length) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] as number;
}
