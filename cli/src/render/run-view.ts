import type { ApprovalRecord, RunRecord, UsageResponse } from '@triad/shared';

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
const oneLine = (s: string) => s.replace(/\s+/g, ' ').trim();
const time = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Left-aligned columns under a header row. */
export function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

/** The `triad list` table. */
export function runsTable(runs: RunRecord[]): string[] {
  return table(
    ['RUN', 'STATUS', 'ITER', 'CREATED (UTC)', 'GOAL'],
    runs.map((r) => [
      r.id,
      r.status,
      String(r.iteration),
      time(r.createdAt),
      clip(oneLine(r.request?.goal ?? '(rejected at intake)'), 60),
    ]),
  );
}

/** The `triad usage` table: one line a day; a capped figure shows its cap. */
export function usageTable(usage: UsageResponse): string[] {
  const capped = (value: string, cap: number | null, show: (n: number) => string) =>
    cap === null ? value : `${value} / ${show(cap)}`;
  return table(
    ['DAY (UTC)', 'COST (USD)', 'TOKENS', 'MODEL CALLS', 'RUNS'],
    usage.days.map((d) => [
      d.day,
      capped(d.costUsd.toFixed(6), d.limits.maxCostUsdPerDay, (n) => String(n)),
      capped(String(d.tokens), d.limits.maxTokensPerDay, String),
      String(d.modelCalls),
      String(d.runs),
    ]),
  );
}

/** The `triad approvals` table. */
export function approvalsTable(approvals: ApprovalRecord[]): string[] {
  return table(
    ['RUN', 'APPROVAL', 'TOOL', 'RISK', 'EXPIRES (UTC)', 'ARGUMENTS'],
    approvals.map((a) => [a.runId, a.id, a.tool, a.risk, time(a.expiresAt), clip(oneLine(a.arguments), 60)]),
  );
}

/** A run's outcome in a few lines: status, counts, answer or error. */
export function runOutcome(run: RunRecord): string[] {
  const u = run.usage;
  const took = run.finishedAt ? ` in ${seconds(run.finishedAt - run.createdAt)}` : '';
  const lines = [
    `run ${run.id} ${run.status}${took} · ${run.iteration} iterations · ${u.toolCalls} tool calls · ${u.inputTokens + u.outputTokens} tokens`,
  ];
  if (run.output) lines.push(`output: ${JSON.stringify(run.output)}`);
  else if (run.answer) lines.push(`answer: ${run.answer}`);
  if (run.error) lines.push(`error (${run.error.code}): ${run.error.message}`);
  return lines;
}

/** The `triad status` view: every field a person asks about. */
export function runDetails(run: RunRecord): string[] {
  const u = run.usage;
  const rows: [string, string | null][] = [
    ['run', run.id],
    ['status', `${run.status} (iteration ${run.iteration}, phase ${run.phase})`],
    ['goal', run.request ? clip(oneLine(run.request.goal), 300) : '(rejected at intake)'],
    ['created', time(run.createdAt)],
    ['finished', run.finishedAt ? `${time(run.finishedAt)} (${seconds(run.finishedAt - run.createdAt)})` : null],
    [
      'usage',
      `${u.modelCalls} model calls · ${u.toolCalls} tool calls · ${u.inputTokens} in + ${u.outputTokens} out tokens${u.costUsd ? ` · $${u.costUsd.toFixed(4)}` : ''}`,
    ],
    ['answer', run.answer],
    ['output', run.output ? JSON.stringify(run.output) : null],
    ['error', run.error ? `${run.error.code}: ${run.error.message}` : null],
    ['archived', run.archived ? 'yes: read from the archive (its data has left Redis)' : null],
  ];
  return rows.flatMap(([k, v]) => (v === null ? [] : [`${k.padEnd(9)} ${v}`]));
}
