import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace';
import { splitStoreRunId } from '@triad/contracts';
import { activeRunId } from './run-context.js';

/**
 * Stamps every span started inside a run's work (the model call's GenAI span, an HTTP span, a queue span) with the
 * run's `run.id` and `triad.tenant`, so a trace backend finds all of a tenant's spans, not only the stage spans.
 */
export class RunAttributesProcessor implements SpanProcessor {
  onStart(span: Span, parent: Context): void {
    const storeId = activeRunId(parent);
    if (!storeId) return;
    const { tenant, runId } = splitStoreRunId(storeId);
    span.setAttribute('triad.tenant', tenant);
    if (span.attributes['run.id'] === undefined) span.setAttribute('run.id', runId);
  }

  onEnd(_span: ReadableSpan): void {}

  async forceFlush(): Promise<void> {}

  async shutdown(): Promise<void> {}
}
