import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace';

// bullmq-otel puts each job's return value on its `process` span; an executor's is the tool's observation.
const CONTENT_EVENT_ATTRIBUTES = ['bullmq.job.result'];

/**
 * Removes message and tool content that libraries add to spans on their own, unless content capture is on.
 * Runs in onEnding, while the span can still be changed, before any exporting processor sees it.
 */
export class ContentGuardProcessor implements SpanProcessor {
  constructor(private readonly captureContent: boolean) {}

  onStart(_span: Span, _parent: Context): void {}

  onEnding(span: Span): void {
    if (this.captureContent) return;
    for (const event of span.events) {
      const attributes = event.attributes as Record<string, unknown> | undefined;
      if (!attributes) continue;
      for (const key of CONTENT_EVENT_ATTRIBUTES) delete attributes[key];
    }
  }

  onEnd(_span: ReadableSpan): void {}

  async forceFlush(): Promise<void> {}

  async shutdown(): Promise<void> {}
}
