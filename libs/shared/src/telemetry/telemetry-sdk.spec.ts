import { afterAll, describe, expect, it } from '@jest/globals';
import { context, metrics, propagation, trace } from '@opentelemetry/api';
import type { TelemetryConfig } from '../config/triad-config.js';
import { activeRunId, withRunId } from './run-context.js';
import { traceparentOf, triadTracer } from './run-trace.js';
import { startTelemetry } from './telemetry-sdk.js';
import { exportMachineryLoaded, telemetryState } from './telemetry-state.js';

const config = (over: Partial<TelemetryConfig> = {}): TelemetryConfig => ({
  otlpEndpoint: undefined,
  otlpProtocol: 'http/protobuf',
  serviceName: undefined,
  traceContent: false,
  metricsPort: 0,
  metricsHost: '0.0.0.0',
  logLevel: 'info',
  ...over,
});
// Export errors (nothing listens at the endpoint) are not this spec's business.
const env = { OTEL_LOG_LEVEL: 'none' };

afterAll(() => {
  context.disable();
  trace.disable();
  propagation.disable();
  metrics.disable();
});

// In this order: the second test loads the export machinery, which the first must not have found loaded.
describe('startTelemetry', () => {
  it('records spans with trace context but loads no export machinery without an endpoint or a metrics port', async () => {
    await startTelemetry('planner', config(), env);
    expect(exportMachineryLoaded()).toBe(false);
    expect(telemetryState()).toMatchObject({ role: 'planner', exporting: false });

    // Trace ids still reach run traces and logs: a recording span, the active context, W3C propagation.
    const traceparent = triadTracer().startActiveSpan('plan planner', (span) => {
      expect(span.isRecording()).toBe(true);
      const inner = context.with(withRunId(context.active(), 'r1'), () =>
        Promise.resolve().then(() => [activeRunId(), trace.getActiveSpan()?.spanContext().spanId]),
      );
      span.end();
      return { header: traceparentOf(), span: span.spanContext(), inner };
    });
    expect(traceparent.header).toBe(`00-${traceparent.span.traceId}-${traceparent.span.spanId}-01`);
    expect(await traceparent.inner).toEqual(['r1', traceparent.span.spanId]);
    const carrier: Record<string, string> = {};
    triadTracer().startActiveSpan('hop', (span) => {
      propagation.inject(context.active(), carrier);
      span.end();
    });
    expect(carrier.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);

    await telemetryState().shutdown();
    expect(exportMachineryLoaded()).toBe(false);
  });

  it('loads it when an OTLP endpoint is configured', async () => {
    trace.disable();
    await startTelemetry('judge', config({ otlpEndpoint: 'http://127.0.0.1:9' }), env);
    expect(exportMachineryLoaded()).toBe(true);
    expect(telemetryState()).toMatchObject({ role: 'judge', exporting: true });
    await telemetryState().shutdown();
  });
});
