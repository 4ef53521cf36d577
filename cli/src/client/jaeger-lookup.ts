/** What Jaeger said about a trace: it holds it, it does not, or it could not be asked. */
export type JaegerLookup =
  | { url: string; traceId: string; outcome: 'found' }
  | { url: string; traceId: string; outcome: 'missing' }
  | { url: string; traceId: string; outcome: 'unreachable'; detail: string };

/**
 * Asks the Jaeger at `url` (its UI and query address, e.g. http://localhost:16686) whether it holds the trace,
 * through the query API its UI uses (`GET /api/traces/<id>`), so a link is printed only to a trace that is there.
 */
export async function lookUpTrace(url: string, traceId: string, signal?: AbortSignal): Promise<JaegerLookup> {
  const base = url.replace(/\/+$/, '');
  try {
    const timeout = AbortSignal.timeout(5_000);
    const res = await fetch(`${base}/api/traces/${traceId}`, {
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      headers: { accept: 'application/json' },
    });
    if (res.status === 404) return { url: base, traceId, outcome: 'missing' };
    if (!res.ok) return { url: base, traceId, outcome: 'unreachable', detail: `HTTP ${res.status}` };
    const body = (await res.json()) as { data?: unknown[] | null };
    return { url: base, traceId, outcome: body.data?.length ? 'found' : 'missing' };
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    return { url: base, traceId, outcome: 'unreachable', detail: cause ?? (err as Error).message };
  }
}

/** The line `triad trace` prints for a lookup. */
export function jaegerLine(j: JaegerLookup): string {
  if (j.outcome === 'found') return `jaeger ${j.url}/trace/${j.traceId}`;
  if (j.outcome === 'missing') {
    return `jaeger: ${j.url} has no trace ${j.traceId}: nothing of this run was exported there (the services export when OTEL_EXPORTER_OTLP_ENDPOINT points at Jaeger's OTLP port, e.g. http://localhost:4318), or not yet (spans leave in batches, every few seconds)`;
  }
  return `jaeger: could not ask ${j.url} about trace ${j.traceId} (${j.detail}); no link printed`;
}
