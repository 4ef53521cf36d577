import {
  type Attributes,
  type Context,
  context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  type Link,
  ROOT_CONTEXT,
  type Span,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { splitStoreRunId } from '@triad/contracts';
import { TRIAD_TRACER, TRIAD_VERSION } from './bullmq-telemetry.js';
import { logRunSpan } from './json-logger.js';
import { withRunId } from './run-context.js';

const w3c = new W3CTraceContextPropagator();

/** Triad's own tracer (GenAI and run spans; BullMQ's come from bullmq-otel). */
export function triadTracer(): Tracer {
  return trace.getTracer(TRIAD_TRACER, TRIAD_VERSION);
}

/** The W3C traceparent of a context's span, or undefined when it has none. */
export function traceparentOf(ctx: Context = context.active()): string | undefined {
  const carrier: Record<string, string> = {};
  w3c.inject(ctx, carrier, defaultTextMapSetter);
  return carrier.traceparent;
}

/**
 * The parent of a run's next span: the active context when it already belongs to the run's trace (a bullmq-otel
 * consumer span under the producer that the run's previous step started), else the run's stored trace context. So
 * one trace covers the run whatever re-added its jobs: a restart, a redelivery, an approval answered hours later.
 */
export function runParentContext(traceparent: string | null | undefined, active = context.active()): Context {
  if (!traceparent) return active;
  const stored = w3c.extract(ROOT_CONTEXT, { traceparent }, defaultTextMapGetter);
  const storedSpan = trace.getSpanContext(stored);
  if (!storedSpan) return active;
  return trace.getSpanContext(active)?.traceId === storedSpan.traceId ? active : stored;
}

/** A span link to the span a W3C traceparent names (none for a missing or malformed one). */
export function linkTo(traceparent: string | null | undefined, attributes?: Attributes): Link[] {
  if (!traceparent) return [];
  const ctx = trace.getSpanContext(w3c.extract(ROOT_CONTEXT, { traceparent }, defaultTextMapGetter));
  return ctx ? [{ context: ctx, attributes }] : [];
}

export interface RunSpanOptions {
  runId: string;
  /** The run's stored traceparent; null for a new run (the span then starts the trace under the active context). */
  traceparent: string | null | undefined;
  iteration?: number;
  stepId?: string;
  attributes?: Attributes;
  /** Traces this span links to (a fork's root span links to its parent run's trace). */
  links?: Link[];
}

/**
 * Runs `fn` inside a span of the run's trace, with run.id / triad.tenant / triad.iteration / triad.step.id attributes; an error
 * marks the span (error.type) and is rethrown. A job parked by BullMQ (DelayedError) is not an error.
 */
export async function withRunSpan<T>(name: string, opts: RunSpanOptions, fn: (span: Span) => Promise<T>): Promise<T> {
  const parent = withRunId(runParentContext(opts.traceparent), opts.runId);
  const { tenant, runId } = splitStoreRunId(opts.runId);
  const attributes: Attributes = { 'run.id': runId, 'triad.tenant': tenant, ...opts.attributes };
  if (opts.iteration !== undefined) attributes['triad.iteration'] = opts.iteration;
  if (opts.stepId !== undefined) attributes['triad.step.id'] = opts.stepId;
  const started = performance.now();
  return triadTracer().startActiveSpan(name, { attributes, links: opts.links }, parent, async (span) => {
    let failure: unknown;
    try {
      return await fn(span);
    } catch (err) {
      if (err instanceof Error && err.name === 'DelayedError') {
        span.setAttribute('triad.parked', true);
      } else {
        failure = err;
        span.recordException(err instanceof Error ? err : String(err));
        span.setAttribute('error.type', err instanceof Error ? err.name : 'Error');
        span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
      }
      throw err;
    } finally {
      span.end();
      logRunSpan(name, performance.now() - started, failure);
    }
  });
}
