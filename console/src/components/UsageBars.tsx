import type { RunRecord } from '@triad/contracts';
import { duration } from './StatusBadge.js';

/** What a run has used against each of its budget's limits, as labelled meters. */
export function UsageBars(props: { run: RunRecord; now: number }) {
  const { run, now } = props;
  const b = run.request?.budget;
  if (!b) return null;
  const u = run.usage;
  const elapsed = (run.finishedAt ?? now) - run.createdAt;
  const rows: { label: string; used: number; max: number; text: string }[] = [
    { label: 'Iterations', used: run.iteration, max: b.maxIterations, text: `${run.iteration} / ${b.maxIterations}` },
    { label: 'Tool calls', used: u.toolCalls, max: b.maxToolCalls, text: `${u.toolCalls} / ${b.maxToolCalls}` },
    {
      label: 'Tokens',
      used: u.inputTokens + u.outputTokens,
      max: b.maxTokens,
      text: `${u.inputTokens + u.outputTokens} / ${b.maxTokens}`,
    },
    { label: 'Time', used: elapsed, max: b.timeoutMs, text: `${duration(elapsed)} / ${duration(b.timeoutMs)}` },
  ];
  if (b.maxCostUsd !== null) {
    rows.push({
      label: 'Cost',
      used: u.costUsd,
      max: b.maxCostUsd,
      text: `$${u.costUsd.toFixed(4)} / $${b.maxCostUsd}`,
    });
  }
  return (
    <dl class="usage">
      {rows.map((r) => {
        const id = `usage-${r.label.toLowerCase().replace(' ', '-')}`;
        return (
          <div key={r.label} class="usage-row">
            <dt id={id}>{r.label}</dt>
            <dd>
              <meter
                aria-labelledby={id}
                min={0}
                max={r.max || 1}
                low={(r.max || 1) * 0.7}
                high={(r.max || 1) * 0.9}
                optimum={0}
                value={Math.min(r.used, r.max || 1)}
              />
              <span class="usage-text">{r.text}</span>
            </dd>
          </div>
        );
      })}
    </dl>
  );
}
