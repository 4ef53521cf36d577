import { type Meter, metrics } from '@opentelemetry/api';
import { TRIAD_TRACER, TRIAD_VERSION } from './bullmq-telemetry.js';
import { telemetryState } from './telemetry-state.js';

/** A queue whose job counts the depth gauge reads (a BullMQ Queue fits). */
export interface CountableQueue {
  readonly name: string;
  getJobCounts(...types: string[]): Promise<Record<string, number>>;
}

const meter = (): Meter => metrics.getMeter(TRIAD_TRACER, TRIAD_VERSION);

// Created on first use, after the preload has installed the meter provider (before it, they would be no-ops).
let instruments: ReturnType<typeof createInstruments> | undefined;
function createInstruments() {
  const m = meter();
  return {
    runsStarted: m.createCounter('triad.runs.started', { description: 'Runs accepted at intake' }),
    runsFinished: m.createCounter('triad.runs.finished', { description: 'Runs ended, by status' }),
    iterationDuration: m.createHistogram('triad.iteration.duration', {
      description: 'From the start of an iteration to its verdict',
      unit: 's',
    }),
    toolDuration: m.createHistogram('triad.tool.duration', { description: 'Tool calls, by tool', unit: 's' }),
    tokens: m.createHistogram('gen_ai.client.token.usage', { description: 'Model tokens per call', unit: '{token}' }),
  };
}
const metric = () => {
  instruments ??= createInstruments();
  return instruments;
};

/** Triad's metrics; every call is a no-op when no meter provider was started. */
export const triadMetrics = {
  runStarted(): void {
    metric().runsStarted.add(1);
  },
  runFinished(status: string): void {
    metric().runsFinished.add(1, { 'triad.run.status': status });
  },
  iterationFinished(seconds: number, decision: string): void {
    metric().iterationDuration.record(seconds, { 'triad.verdict': decision });
  },
  toolCalled(tool: string, seconds: number, errorType: string | undefined): void {
    metric().toolDuration.record(seconds, {
      'gen_ai.tool.name': tool,
      ...(errorType ? { 'error.type': errorType } : {}),
    });
  },
  tokensUsed(model: string, input: number, output: number): void {
    const base = {
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': model,
      'triad.role': telemetryState().role,
    };
    metric().tokens.record(input, { ...base, 'gen_ai.token.type': 'input' });
    metric().tokens.record(output, { ...base, 'gen_ai.token.type': 'output' });
  },
};

const DEPTH_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'failed'];

/** An observable gauge of each queue's job counts by state, read from Redis when metrics are collected. */
export function observeQueueDepth(queues: CountableQueue[]): () => void {
  const gauge = meter().createObservableGauge('triad.queue.depth', { description: 'Jobs per queue and state' });
  const callback = async (result: { observe(value: number, attributes: Record<string, string>): void }) => {
    await Promise.all(
      queues.map(async (q) => {
        const counts = await q.getJobCounts(...DEPTH_STATES).catch(() => null);
        if (!counts) return;
        for (const state of DEPTH_STATES) {
          result.observe(counts[state] ?? 0, { 'messaging.destination.name': q.name, 'triad.job.state': state });
        }
      }),
    );
  };
  gauge.addCallback(callback);
  return () => gauge.removeCallback(callback);
}
