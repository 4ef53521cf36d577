import type { RunRecord, StoredRunEvent } from '@triad/shared';
import { type JaegerLookup, jaegerLine } from '../client/jaeger-lookup.js';

export interface TraceTreeOptions {
  /** What Jaeger said about the run's trace: a link when it holds it, else why there is none. */
  jaeger?: JaegerLookup;
}

const clip = (s: string, n: number) => {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > n ? `${one.slice(0, n - 1)}…` : one;
};

/** The trace id inside a W3C traceparent (`00-<trace id>-<span id>-<flags>`), or null. */
export function traceIdOf(traceparent: string | undefined): string | null {
  return /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/.exec(traceparent ?? '')?.[1] ?? null;
}

/**
 * A run's loop as a tree, the shape its trace has: one branch per iteration with the thought, the tool calls
 * (duration, result), the judge's verdict and the tokens spent; headed by the trace id and, when Jaeger holds the trace, a link to it.
 */
export function renderTraceTree(run: RunRecord, events: StoredRunEvent[], opts: TraceTreeOptions = {}): string[] {
  const traceId = traceIdOf(run.traceparent);
  const lines = [`run ${run.id} · ${run.status} · ${run.iteration} iteration(s)`];
  lines.push(`trace ${traceId ?? '(none recorded)'}`);
  if (traceId && opts.jaeger?.traceId === traceId) lines.push(jaegerLine(opts.jaeger));

  const iterations = [...new Set(events.map((e) => e.iteration).filter((i) => i > 0))].sort((a, b) => a - b);
  iterations.forEach((iteration, i) => {
    const last = i === iterations.length - 1;
    lines.push(`${last ? '└─' : '├─'} iteration ${iteration}`);
    const rows = iterationRows(events.filter((e) => e.iteration === iteration));
    const pad = last ? '   ' : '│  ';
    for (const [j, row] of rows.entries()) lines.push(`${pad}${j === rows.length - 1 ? '└─' : '├─'} ${row}`);
  });
  const u = run.usage;
  lines.push(
    `tokens ${u.inputTokens} in / ${u.outputTokens} out · ${u.modelCalls} model calls · ${u.toolCalls} tool calls`,
  );
  if (run.answer) lines.push(`answer ${clip(run.answer, 200)}`);
  if (run.error) lines.push(`error ${run.error.code}: ${clip(run.error.message, 200)}`);
  return lines;
}

function iterationRows(events: StoredRunEvent[]): string[] {
  const rows: string[] = [];
  for (const e of events) {
    switch (e.type) {
      case 'thought':
        rows.push(
          `plan ${e.model} · ${e.inputTokens}+${e.outputTokens} tokens${e.text ? ` · ${clip(e.text, 120)}` : ''}`,
        );
        break;
      case 'observation': {
        const result = e.observation.ok
          ? `ok ${clip(JSON.stringify(e.observation.data) ?? 'null', 100)}`
          : `${e.observation.error.code}: ${clip(e.observation.error.message, 100)}`;
        rows.push(`execute_tool ${e.tool} [${e.stepId}] ${e.durationMs} ms → ${result}`);
        break;
      }
      case 'approval.decided':
        rows.push(`approval ${e.status} by ${e.by} [${e.stepId}]`);
        break;
      case 'answer.proposed':
        rows.push(`answer proposed · ${clip(e.answer, 120)}`);
        break;
      case 'verdict':
        rows.push(`judge ${e.decision} · ${clip(e.reason, 120)}`);
        break;
    }
  }
  return rows;
}
