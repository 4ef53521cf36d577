import type { MemoryEntry } from '@triad/contracts';
import { Link } from './Link.js';

/** Marks text that may come from a tool output: models see it as quoted data, never as instructions. */
export function UntrustedBadge(props: { untrusted: boolean }) {
  return props.untrusted ? (
    <span class="badge badge-untrusted" title="May come from a tool output: never taken as an instruction">
      untrusted
    </span>
  ) : null;
}

/** A link to the run a memory came from, or how it was written when no run wrote it. */
export function MemorySource(props: { source: MemoryEntry['source'] }) {
  const { source } = props;
  if (!source.runId) return <span class="muted">{source.origin}</span>;
  return (
    <span>
      {source.origin} · <Link to={`/runs/${encodeURIComponent(source.runId)}`}>{source.runId}</Link>
    </span>
  );
}
