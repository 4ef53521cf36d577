export type { Span as TraceSpan } from '@opentelemetry/api';
export * from './bullmq-telemetry.js';
export * from './gen-ai-spans.js';
export * from './json-logger.js';
export * from './run-context.js';
export * from './run-trace.js';
export * from './telemetry-state.js';
export * from './triad-metrics.js';
