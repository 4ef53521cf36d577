import { renderTraceTree, traceIdOf } from '@triad/cli/dist/render/trace-tree.js';
import type { RunRecord, StoredRunEvent } from '@triad/contracts';

/**
 * The run's loop as the tree `triad trace` prints (the same function, over the same run record and events), and a
 * link to the run's trace in Jaeger when the gateway names one (TRIAD_JAEGER_URL).
 */
export function TraceTree(props: { run: RunRecord; events: StoredRunEvent[]; jaegerUrl: string | null }) {
  const traceId = traceIdOf(props.run.traceparent);
  const lines = renderTraceTree(props.run, props.events);
  return (
    <>
      {traceId && props.jaegerUrl && (
        <p>
          <a href={`${props.jaegerUrl.replace(/\/+$/, '')}/trace/${traceId}`} target="_blank" rel="noreferrer">
            Open trace {traceId.slice(0, 12)}… in Jaeger
          </a>
        </p>
      )}
      <figure>
        <figcaption class="sr-only">Trace tree</figcaption>
        <pre class="tree">{lines.join('\n')}</pre>
      </figure>
    </>
  );
}
