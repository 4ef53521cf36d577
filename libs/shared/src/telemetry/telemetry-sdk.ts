import { OTLPMetricExporter as OTLPJsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as OTLPProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { OTLPTraceExporter as OTLPJsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OTLPProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { type IMetricReader, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { startNodeSdk } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { TelemetryConfig } from '../config/triad-config.js';
import { TRIAD_VERSION } from './bullmq-telemetry.js';
import { ContentGuardProcessor } from './content-guard.processor.js';
import { HousekeepingSampler } from './housekeeping.sampler.js';
import { setTelemetryState } from './telemetry-state.js';

const envNumber = (env: NodeJS.ProcessEnv, name: string) => {
  const n = Number(env[name]);
  return env[name] && Number.isFinite(n) && n >= 0 ? n : undefined;
};

/**
 * Starts the OpenTelemetry Node SDK for one service process. Spans are always recorded (so every run gets a trace id
 * and log lines carry it) but exported only when an OTLP endpoint is configured; with none, nothing is dialled.
 */
export function startTelemetry(role: string, config: TelemetryConfig, env: NodeJS.ProcessEnv = process.env): void {
  const exporting = config.otlpEndpoint !== undefined;
  const spanProcessors: SpanProcessor[] = [new ContentGuardProcessor(config.traceContent)];
  if (exporting) spanProcessors.push(batchProcessor(traceExporter(config), env));
  const metricReaders: IMetricReader[] = [];
  if (exporting) metricReaders.push(new PeriodicExportingMetricReader({ exporter: metricExporter(config) }));
  if (config.metricsPort > 0) metricReaders.push(new PrometheusExporter({ port: config.metricsPort }));

  const sdk = startNodeSdk({
    resourceAttributes: {
      [ATTR_SERVICE_NAME]: config.serviceName ?? `triad-${role}`,
      [ATTR_SERVICE_VERSION]: TRIAD_VERSION,
      'triad.role': role,
    },
    spanProcessors,
    sampler: new HousekeepingSampler(),
    metricReaders,
    logRecordProcessors: [],
    instrumentations: [
      // Only Redis commands made inside a span (a job's work), not the workers' polling; never the arguments.
      new IORedisInstrumentation({ requireParentSpan: true, dbStatementSerializer: (command) => command }),
      new HttpInstrumentation({
        requireParentforOutgoingSpans: true,
        ignoreIncomingRequestHook: (req) => req.url === '/metrics' || (req.url ?? '').startsWith('/health'),
      }),
    ],
  });
  setTelemetryState({ role, traceContent: config.traceContent, shutdown: () => sdk.shutdown() });
}

function traceExporter(config: TelemetryConfig): SpanExporter {
  return config.otlpProtocol === 'http/json' ? new OTLPJsonTraceExporter() : new OTLPProtoTraceExporter();
}

function metricExporter(config: TelemetryConfig) {
  return config.otlpProtocol === 'http/json' ? new OTLPJsonMetricExporter() : new OTLPProtoMetricExporter();
}

// Passing our own processors means the SDK no longer reads OTEL_BSP_*: read them here, as it would.
function batchProcessor(exporter: SpanExporter, env: NodeJS.ProcessEnv): BatchSpanProcessor {
  return new BatchSpanProcessor({
    exporter,
    scheduledDelayMillis: envNumber(env, 'OTEL_BSP_SCHEDULE_DELAY'),
    maxQueueSize: envNumber(env, 'OTEL_BSP_MAX_QUEUE_SIZE'),
    maxExportBatchSize: envNumber(env, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE'),
    exportTimeoutMillis: envNumber(env, 'OTEL_BSP_EXPORT_TIMEOUT'),
  });
}
