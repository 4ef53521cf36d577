import { BullMQOtel } from 'bullmq-otel';

export const TRIAD_TRACER = 'triad';
export const TRIAD_VERSION = '0.1.0';

/** BullMQ's producer (`add <queue>.<job>`) and consumer (`process <queue>`) spans, carried across hops in job options. */
export function bullmqTelemetry(): BullMQOtel {
  return new BullMQOtel({ tracerName: `${TRIAD_TRACER}-bullmq`, version: TRIAD_VERSION });
}
