import { context, DiagConsoleLogger, diag, propagation, type TextMapPropagator, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  CompositePropagator,
  diagLogLevelFromString,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from '@opentelemetry/core';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { type SpanLimits, TracerProvider } from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { TelemetryConfig } from '../config/triad-config.js';
import { TRIAD_VERSION } from './bullmq-telemetry.js';
import { ContentGuardProcessor } from './content-guard.processor.js';
import { HousekeepingSampler } from './housekeeping.sampler.js';
import { RunAttributesProcessor } from './run-attributes.processor.js';
import type { TelemetryExport } from './telemetry-export.js';
import { setTelemetryState } from './telemetry-state.js';

const envFlag = (env: NodeJS.ProcessEnv, name: string) => /^\s*true\s*$/i.test(env[name] ?? '');
const envCount = (env: NodeJS.ProcessEnv, ...names: string[]) => {
  for (const name of names) {
    const n = Number(env[name]);
    if (env[name]?.trim() && Number.isFinite(n)) return n;
  }
  return undefined;
};

/**
 * Starts tracing for one service process. A tracer provider, the AsyncLocalStorage context manager and the W3C
 * propagators always run, so every run gets a trace id and log lines carry it. The export machinery (OTLP
 * exporters, metric readers and the global meter provider, HTTP instrumentation) is loaded only when an OTLP
 * endpoint or a metrics port is configured; with neither, nothing of it is read from disk and nothing is dialled.
 */
export async function startTelemetry(
  role: string,
  config: TelemetryConfig,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  if (envFlag(env, 'OTEL_SDK_DISABLED')) return;
  diag.setLogger(new DiagConsoleLogger(), { logLevel: diagLogLevelFromString(env.OTEL_LOG_LEVEL ?? 'info') });
  const resourceAttributes = {
    [ATTR_SERVICE_NAME]: config.serviceName ?? `triad-${role}`,
    [ATTR_SERVICE_VERSION]: TRIAD_VERSION,
    'triad.role': role,
  };
  let exported: TelemetryExport | undefined;
  if (config.otlpEndpoint !== undefined || config.metricsPort > 0) {
    try {
      exported = await (await import('./telemetry-export.js')).startExport(config, resourceAttributes, env);
    } catch (err) {
      diag.error(`Could not start exporting telemetry, spans are recorded but not exported: ${err}`);
    }
  }
  const provider = new TracerProvider({
    resource: exported?.resource ?? defaultResource().merge(resourceFromAttributes(resourceAttributes)),
    sampler: new HousekeepingSampler(),
    // The guard first: it scrubs a span as it ends, before an exporting processor sees it.
    spanProcessors: [
      new RunAttributesProcessor(),
      new ContentGuardProcessor(config.traceContent),
      ...(exported?.spanProcessors ?? []),
    ],
    spanLimits: spanLimits(env),
  });
  const contextManager = new AsyncLocalStorageContextManager();
  contextManager.enable();
  context.setGlobalContextManager(contextManager);
  const propagator = propagatorFromEnv(env);
  if (propagator) propagation.setGlobalPropagator(propagator);
  trace.setGlobalTracerProvider(provider);
  setTelemetryState({
    role,
    traceContent: config.traceContent,
    exporting: exported !== undefined,
    shutdown: async () => {
      await Promise.all([provider.shutdown(), exported?.shutdown()]);
    },
  });
}

/** OTEL_PROPAGATORS (default `tracecontext,baggage`); `none` installs none. */
function propagatorFromEnv(env: NodeJS.ProcessEnv): TextMapPropagator | undefined {
  const names = (env.OTEL_PROPAGATORS ?? '')
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  if (names.includes('none')) return undefined;
  const propagators: TextMapPropagator[] = [];
  for (const name of new Set(names.length ? names : ['tracecontext', 'baggage'])) {
    if (name === 'tracecontext') propagators.push(new W3CTraceContextPropagator());
    else if (name === 'baggage') propagators.push(new W3CBaggagePropagator());
    else diag.warn(`unsupported propagator in OTEL_PROPAGATORS: "${name}" (supported: tracecontext, baggage, none)`);
  }
  if (propagators.length <= 1) return propagators[0];
  return new CompositePropagator({ propagators });
}

/** The OTEL_*_LIMIT variables of the specification, as the Node SDK reads them. */
function spanLimits(env: NodeJS.ProcessEnv): SpanLimits {
  return {
    attributeCountLimit: envCount(env, 'OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT', 'OTEL_ATTRIBUTE_COUNT_LIMIT'),
    attributeValueLengthLimit: envCount(
      env,
      'OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT',
      'OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT',
    ),
    eventCountLimit: envCount(env, 'OTEL_SPAN_EVENT_COUNT_LIMIT'),
    linkCountLimit: envCount(env, 'OTEL_SPAN_LINK_COUNT_LIMIT'),
    attributePerEventCountLimit: envCount(
      env,
      'OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT',
      'OTEL_SPAN_ATTRIBUTE_PER_EVENT_COUNT_LIMIT',
    ),
    attributePerLinkCountLimit: envCount(
      env,
      'OTEL_LINK_ATTRIBUTE_COUNT_LIMIT',
      'OTEL_SPAN_ATTRIBUTE_PER_LINK_COUNT_LIMIT',
    ),
  };
}
