import { type BatchObservableResult, type Meter, metrics } from '@opentelemetry/api';
import { splitStoreRunId } from '@triad/contracts';
import { TRIAD_TRACER, TRIAD_VERSION } from './bullmq-telemetry.js';
import { activeRunId } from './run-context.js';
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

/** `triad.tenant` of a run (by store id), else of the run whose work is in progress. */
const tenantOf = (runId = activeRunId()) => (runId ? { 'triad.tenant': splitStoreRunId(runId).tenant } : {});

/** Triad's metrics, each by tenant; every call is a no-op when no meter provider was started. */
export const triadMetrics = {
  runStarted(runId: string): void {
    metric().runsStarted.add(1, tenantOf(runId));
  },
  runFinished(runId: string, status: string): void {
    metric().runsFinished.add(1, { 'triad.run.status': status, ...tenantOf(runId) });
  },
  iterationFinished(seconds: number, decision: string): void {
    metric().iterationDuration.record(seconds, { 'triad.verdict': decision, ...tenantOf() });
  },
  toolCalled(tool: string, seconds: number, errorType: string | undefined): void {
    metric().toolDuration.record(seconds, {
      ...tenantOf(),
      'gen_ai.tool.name': tool,
      ...(errorType ? { 'error.type': errorType } : {}),
    });
  },
  tokensUsed(model: string, input: number, output: number): void {
    const base = {
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': model,
      'triad.role': telemetryState().role,
      ...tenantOf(),
    };
    metric().tokens.record(input, { ...base, 'gen_ai.token.type': 'input' });
    metric().tokens.record(output, { ...base, 'gen_ai.token.type': 'output' });
  },
};

const DEPTH_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'failed'];
/** The states of jobs no worker has taken yet: what an autoscaler scales a queue's workers on. */
export const BACKLOG_STATES = ['waiting', 'prioritized', 'delayed'] as const;

/**
 * Observable gauges of each queue's jobs, read from Redis (one script per queue) only when metrics are collected:
 * `triad.queue.depth` by queue and state, and `triad.queue.backlog`, the jobs waiting for a worker (waiting +
 * prioritized + delayed: BullMQ keeps a job with a priority, as every loop job has, in `prioritized`, not `wait`).
 */
export function observeQueueDepth(queues: CountableQueue[]): () => void {
  const m = meter();
  const depth = m.createObservableGauge('triad.queue.depth', { description: 'Jobs per queue and state' });
  const backlog = m.createObservableGauge('triad.queue.backlog', {
    description: 'Jobs waiting for a worker, per queue: waiting + prioritized + delayed',
  });
  const callback = async (result: BatchObservableResult) => {
    await Promise.all(
      queues.map(async (q) => {
        const counts = await q.getJobCounts(...DEPTH_STATES).catch(() => null);
        if (!counts) return;
        const queue = { 'messaging.destination.name': q.name };
        for (const state of DEPTH_STATES)
          result.observe(depth, counts[state] ?? 0, { ...queue, 'triad.job.state': state });
        result.observe(
          backlog,
          BACKLOG_STATES.reduce((sum, state) => sum + (counts[state] ?? 0), 0),
          queue,
        );
      }),
    );
  };
  m.addBatchObservableCallback(callback, [depth, backlog]);
  return () => m.removeBatchObservableCallback(callback, [depth, backlog]);
}

/** The capacity guard's last sample, as the gauges read it. */
export interface CapacityReading {
  readonly high: boolean;
  readonly usedFraction: number | null;
}

/**
 * Gauges of the capacity guard, read from its kept sample (no Redis call) when metrics are collected:
 * `triad.redis.memory.usage` (used memory over maxmemory, when Redis has one) and `triad.intake.paused` (1 while intake
 * is paused, by reason).
 */
export function observeCapacity(read: () => CapacityReading): () => void {
  const usage = meter().createObservableGauge('triad.redis.memory.usage', {
    description: 'Redis used memory over its maxmemory, as the capacity guard last read it',
    unit: '1',
  });
  const paused = meter().createObservableGauge('triad.intake.paused', {
    description: 'Goal intake paused (1) or open (0), by reason',
  });
  const observeUsage = (result: { observe(value: number): void }) => {
    const fraction = read().usedFraction;
    if (fraction !== null) result.observe(fraction);
  };
  const observePaused = (result: { observe(value: number, attributes: Record<string, string>): void }) => {
    result.observe(read().high ? 1 : 0, { 'triad.intake.reason': 'redis_memory' });
  };
  usage.addCallback(observeUsage);
  paused.addCallback(observePaused);
  return () => {
    usage.removeCallback(observeUsage);
    paused.removeCallback(observePaused);
  };
}
