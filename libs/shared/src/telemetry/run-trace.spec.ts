import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { ContentGuardProcessor } from './content-guard.processor.js';
import { HousekeepingSampler } from './housekeeping.sampler.js';
import { activeRunId } from './run-context.js';
import { runParentContext, traceparentOf, withRunSpan } from './run-trace.js';

const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({
  sampler: new HousekeepingSampler(),
  spanProcessors: [new ContentGuardProcessor(false), new SimpleSpanProcessor({ exporter })],
});
const contextManager = new AsyncLocalStorageContextManager();

beforeAll(() => {
  context.setGlobalContextManager(contextManager.enable());
  trace.setGlobalTracerProvider(provider);
});
afterAll(async () => {
  await provider.shutdown();
  context.disable();
  trace.disable();
});

const tracer = () => provider.getTracer('spec');
const finished = (name: string) => exporter.getFinishedSpans().filter((s) => s.name === name);

describe('run traces', () => {
  it('starts a run trace, stores its traceparent, and joins it from an unrelated context later', async () => {
    let stored: string | undefined;
    await withRunSpan('invoke_workflow triad', { runId: 'r1', traceparent: null }, async () => {
      stored = traceparentOf();
      expect(activeRunId()).toBe('r1');
    });
    // A job re-added outside the run's trace (a rescue after a restart): its consumer span is in another trace.
    await tracer().startActiveSpan('process plan', async (consumer) => {
      await withRunSpan('plan planner', { runId: 'r1', traceparent: stored, iteration: 2 }, async () => {});
      consumer.end();
    });
    const [root] = finished('invoke_workflow triad');
    const [plan] = finished('plan planner');
    expect(plan.spanContext().traceId).toBe(root.spanContext().traceId);
    expect(plan.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
    expect(plan.attributes).toMatchObject({ 'run.id': 'r1', 'triad.iteration': 2 });
  });

  it('stays under the active span when it already belongs to the run (the BullMQ hop stays visible)', async () => {
    const root = tracer().startSpan('invoke_workflow triad');
    const stored = traceparentOf(trace.setSpan(context.active(), root));
    root.end();
    const consumer = tracer().startSpan('process act', {}, trace.setSpan(context.active(), root));
    const inTrace = trace.setSpan(context.active(), consumer);
    expect(trace.getSpan(runParentContext(stored, inTrace))).toBe(consumer);
    consumer.end();
  });

  it('marks a failure with error.type and rethrows it, but not a job parked at an approval gate', async () => {
    const boom = withRunSpan('execute_tool x', { runId: 'r2', traceparent: null }, async () => {
      throw new TypeError('boom');
    });
    await expect(boom).rejects.toThrow('boom');
    const parked = Object.assign(new Error('parked'), { name: 'DelayedError' });
    const park = withRunSpan('execute_tool y', { runId: 'r2', traceparent: null }, async () => {
      throw parked;
    });
    await expect(park).rejects.toBe(parked);
    expect(finished('execute_tool x')[0].attributes['error.type']).toBe('TypeError');
    expect(finished('execute_tool y')[0].attributes).toMatchObject({ 'triad.parked': true });
    expect(finished('execute_tool y')[0].attributes['error.type']).toBeUndefined();
  });

  it('drops job results BullMQ puts on its spans while content capture is off', () => {
    const span = tracer().startSpan('process act');
    span.addEvent('job completed', { 'bullmq.job.result': '{"secret":"sk-canary"}', kept: 1 });
    span.end();
    expect(finished('process act').at(-1)?.events[0].attributes).toEqual({ kept: 1 });
  });

  it("does not record BullMQ's timer housekeeping as traces of their own", () => {
    tracer().startSpan('moveStalledJobsToWait plan').end();
    tracer().startSpan('add plan.plan').end();
    expect(finished('moveStalledJobsToWait plan')).toHaveLength(0);
    expect(finished('add plan.plan')).toHaveLength(1);
  });
});
