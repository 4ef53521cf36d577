// The export machinery: OTLP span and metric exporters, the Prometheus endpoint, the global meter provider and the
// HTTP instrumentation. Loaded by telemetry-sdk.ts (`await import`) only when an OTLP endpoint or a metrics port is
// configured: with neither, a service starts without reading any of it.
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { diag, metrics } from '@opentelemetry/api';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import {
  defaultResource,
  detectResources,
  hostDetector,
  osDetector,
  processDetector,
  type Resource,
  resourceAttributesEnvDetector,
  resourceFromAttributes,
  serviceInstanceIdDetector,
  serviceNameEnvDetector,
} from '@opentelemetry/resources';
import { type IMetricReader, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BatchSpanProcessor, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace';
import type { TelemetryConfig } from '../config/triad-config.js';
import { noteExportLoaded } from './telemetry-state.js';

noteExportLoaded();

export interface TelemetryExport {
  /** The resource of every span and metric: the process, host and service, then OTEL_RESOURCE_ATTRIBUTES, then ours. */
  resource: Resource;
  /** The batch processor sending spans to the OTLP endpoint (none when only a metrics port is set). */
  spanProcessors: SpanProcessor[];
  /**
   * Flushes the last metrics, stops the Prometheus endpoint and removes the HTTP instrumentation (the span processors
   * are flushed by the tracer provider they were given to).
   */
  shutdown(): Promise<void>;
}

const envNumber = (env: NodeJS.ProcessEnv, name: string) => {
  const n = Number(env[name]);
  return env[name] && Number.isFinite(n) && n >= 0 ? n : undefined;
};

/** Sets up exporting for one process; the caller adds `spanProcessors` to its tracer provider. */
export async function startExport(
  config: TelemetryConfig,
  resourceAttributes: Record<string, string>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<TelemetryExport> {
  const resource = exportResource(resourceAttributes);
  const otlp = config.otlpEndpoint !== undefined;
  const spanProcessors: SpanProcessor[] = otlp ? [batchProcessor(await traceExporter(config), env)] : [];
  const readers: IMetricReader[] = [];
  if (otlp) readers.push(new PeriodicExportingMetricReader({ exporter: await metricExporter(config) }));
  if (config.metricsPort > 0) readers.push(await prometheusEndpoint(config));
  const meterProvider = new MeterProvider({ resource, readers });
  metrics.setGlobalMeterProvider(meterProvider);
  const http = instrumentHttp();
  return {
    resource,
    spanProcessors,
    shutdown: async () => {
      http.disable();
      await meterProvider.shutdown();
    },
  };
}

/**
 * The Prometheus endpoint on TRIAD_METRICS_HOST:TRIAD_METRICS_PORT. A port it cannot listen on (in use, not
 * allowed) is one clear line, not a stack: the service goes on working, without serving metrics.
 */
async function prometheusEndpoint(config: TelemetryConfig): Promise<IMetricReader> {
  const { PrometheusExporter } = await import('@opentelemetry/exporter-prometheus');
  const { metricsHost: host, metricsPort: port } = config;
  const exporter = new PrometheusExporter({ host, port, preventServerStart: true });
  await exporter.startServer().catch((err: NodeJS.ErrnoException) => {
    const why = err.code === 'EADDRINUSE' ? 'is in use by another process' : `cannot be listened on (${err.message})`;
    diag.error(
      `metrics are not served: ${host}:${port} ${why}; give each process on one host its own TRIAD_METRICS_PORT`,
    );
  });
  return exporter;
}

/** What the Node SDK's default detectors give (host, os, process, service instance), then env, then ours. */
function exportResource(attributes: Record<string, string>): Resource {
  const detectors = [processDetector, hostDetector, osDetector, serviceInstanceIdDetector, serviceNameEnvDetector];
  return defaultResource()
    .merge(detectResources({ detectors }))
    .merge(detectResources({ detectors: [resourceAttributesEnvDetector] }))
    .merge(resourceFromAttributes(attributes));
}

/**
 * Incoming and outgoing HTTP spans (and their metrics). `http` and `https` are core modules: the instrumentation
 * patches their shared exports object when they are next required, so they are required here, at once, and the
 * ES-module named exports are synced with the patched functions. No ESM loader hook is needed for them.
 */
function instrumentHttp(): HttpInstrumentation {
  const instrumentation = new HttpInstrumentation({
    requireParentforOutgoingSpans: true,
    ignoreIncomingRequestHook: (req) => req.url === '/metrics' || (req.url ?? '').startsWith('/health'),
  });
  instrumentation.setMeterProvider(metrics.getMeterProvider());
  const require = createRequire(import.meta.url);
  require('node:http');
  require('node:https');
  syncBuiltinESMExports();
  return instrumentation;
}

async function traceExporter(config: TelemetryConfig): Promise<SpanExporter> {
  if (config.otlpProtocol === 'http/json') {
    return new (await import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter();
  }
  return new (await import('@opentelemetry/exporter-trace-otlp-proto')).OTLPTraceExporter();
}

async function metricExporter(config: TelemetryConfig) {
  if (config.otlpProtocol === 'http/json') {
    return new (await import('@opentelemetry/exporter-metrics-otlp-http')).OTLPMetricExporter();
  }
  return new (await import('@opentelemetry/exporter-metrics-otlp-proto')).OTLPMetricExporter();
}

// Our own processors mean nothing reads OTEL_BSP_* for us: read them here, as the SDK would.
function batchProcessor(exporter: SpanExporter, env: NodeJS.ProcessEnv): BatchSpanProcessor {
  return new BatchSpanProcessor({
    exporter,
    scheduledDelayMillis: envNumber(env, 'OTEL_BSP_SCHEDULE_DELAY'),
    maxQueueSize: envNumber(env, 'OTEL_BSP_MAX_QUEUE_SIZE'),
    maxExportBatchSize: envNumber(env, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE'),
    exportTimeoutMillis: envNumber(env, 'OTEL_BSP_EXPORT_TIMEOUT'),
  });
}
