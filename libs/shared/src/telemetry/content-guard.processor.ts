import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace';
import { scrubCredentials } from '../errors/scrub-credentials.js';

// bullmq-otel puts each job's return value on its `process` span; an executor's is the tool's observation.
const CONTENT_EVENT_ATTRIBUTES = ['bullmq.job.result'];

/**
 * The last word on what a span carries, before any exporting processor sees it (onEnding, while the span can still
 * be changed): removes message and tool content that libraries add on their own unless content capture is on, and
 * scrubs credentials (registered keys, `Bearer …`, `sk-…`) from every string attribute, event and status message,
 * whatever the content setting.
 */
export class ContentGuardProcessor implements SpanProcessor {
  constructor(private readonly captureContent: boolean) {}

  onStart(_span: Span, _parent: Context): void {}

  onEnding(span: Span): void {
    for (const [key, value] of Object.entries(span.attributes)) {
      if (typeof value !== 'string') continue;
      const clean = scrubCredentials(value);
      if (clean !== value) span.setAttribute(key, clean);
    }
    if (span.status.message) span.setStatus({ ...span.status, message: scrubCredentials(span.status.message) });
    for (const event of span.events) {
      const attributes = event.attributes as Record<string, unknown> | undefined;
      if (!attributes) continue;
      if (!this.captureContent) for (const key of CONTENT_EVENT_ATTRIBUTES) delete attributes[key];
      for (const [key, value] of Object.entries(attributes)) {
        if (typeof value === 'string') attributes[key] = scrubCredentials(value);
      }
    }
  }

  onEnd(_span: ReadableSpan): void {}

  async forceFlush(): Promise<void> {}

  async shutdown(): Promise<void> {}
}
