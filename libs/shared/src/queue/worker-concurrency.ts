import { monitorEventLoopDelay } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { Logger } from '@nestjs/common';
import type { Worker } from 'bullmq';
import type { TriadConfig } from '../config/triad-config.js';
import {
  type ConcurrencyPolicy,
  concurrencyPolicy,
  nextConcurrency,
  type Pressure,
  type WorkerRole,
} from './concurrency-policy.js';

/** How often the pressure is measured and the concurrency adjusted. */
const WINDOW_MS = 1_000;

/** The concurrency policy of a role in this process, from the configuration and this process's V8 heap limit. */
export function policyFor(config: TriadConfig, role: WorkerRole): ConcurrencyPolicy {
  return concurrencyPolicy({
    role,
    explicit: config.concurrency[role],
    heapLimitBytes: getHeapStatistics().heap_size_limit,
    jobHeapBytes: config.concurrency.jobHeapBytes,
    toolResponseBytes: config.http.maxBytes,
    loopDelayHighMs: config.concurrency.loopDelayHighMs,
    redisLatencyHighMs: config.concurrency.redisLatencyHighMs,
  });
}

/**
 * Sets a worker's concurrency to its role's ceiling and keeps adjusting it under pressure until the worker closes.
 * One call in the processor's bootstrap; BullMQ reads `worker.concurrency` each time it fetches, so a change takes
 * effect at once (running jobs finish; fewer new ones start).
 */
export function applyWorkerConcurrency(worker: Worker, config: TriadConfig, role: WorkerRole): ConcurrencyController {
  const controller = new ConcurrencyController(worker, policyFor(config, role), role);
  controller.start();
  worker.once('closing', () => controller.stop());
  return controller;
}

/** Measures event-loop delay, heap use and Redis round trip once a window and applies `nextConcurrency`. */
export class ConcurrencyController {
  private readonly log = new Logger('Concurrency');
  private readonly loop = monitorEventLoopDelay({ resolution: 20 });
  private timer: NodeJS.Timeout | undefined;
  /** When the PING in flight was sent; a PING still unanswered at the next window counts as slow as it has been. */
  private pingSentAt: number | undefined;
  private lastPingMs = 0;
  private probe: Promise<void> = Promise.resolve();

  constructor(
    private readonly worker: Worker,
    readonly policy: ConcurrencyPolicy,
    private readonly role: WorkerRole,
  ) {}

  start(): void {
    this.worker.concurrency = this.policy.ceiling;
    this.log.log(`${this.role}: up to ${this.policy.ceiling} jobs at once (backs off to ${this.policy.floor})`);
    if (this.policy.floor >= this.policy.ceiling) return;
    this.loop.enable();
    this.timer = setInterval(() => this.tick(), WINDOW_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.loop.disable();
  }

  /** The pressure of the window just ended (and starts the next one). */
  measure(): Pressure {
    const heap = getHeapStatistics();
    const pressure = {
      // No sample at all: the loop was blocked for the whole window.
      loopDelayMs: this.loop.count === 0 ? WINDOW_MS : this.loop.percentile(99) / 1e6,
      redisLatencyMs: this.pingSentAt === undefined ? this.lastPingMs : performance.now() - this.pingSentAt,
      heapShare: heap.used_heap_size / heap.heap_size_limit,
    };
    this.loop.reset();
    this.ping();
    return pressure;
  }

  /** Resolves when the Redis round trip in flight (if any) has been timed. */
  probeSettled(): Promise<void> {
    return this.probe;
  }

  private tick(): void {
    const before = this.worker.concurrency;
    const pressure = this.measure();
    const next = nextConcurrency(before, pressure, this.policy);
    if (next === before) return;
    this.worker.concurrency = next;
    const why = `loop p99 ${pressure.loopDelayMs.toFixed(0)} ms, redis ${pressure.redisLatencyMs.toFixed(0)} ms, heap ${(pressure.heapShare * 100).toFixed(0)}%`;
    if (next < before) this.log.warn(`${this.role}: concurrency ${before} -> ${next} (${why})`);
    else this.log.debug(`${this.role}: concurrency ${before} -> ${next} (${why})`);
  }

  // On the worker's own connection, so the round trip includes the commands queued ahead of it by this process. A
  // GET of a key never written (BullMQ's client has no PING), under the queue's prefix so a cluster routes it alike.
  private ping(): void {
    if (this.pingSentAt !== undefined) return;
    const sent = performance.now();
    this.pingSentAt = sent;
    const probe = `${this.worker.opts.prefix ?? 'bull'}:${this.worker.name}:latency-probe`;
    this.probe = this.worker.backend.client
      .then((client) => client.get(probe))
      .then(
        () => {
          this.lastPingMs = performance.now() - sent;
        },
        () => {
          this.lastPingMs = Number.POSITIVE_INFINITY;
        },
      )
      .finally(() => {
        this.pingSentAt = undefined;
      });
  }
}
