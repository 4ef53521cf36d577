import { getQueueToken } from '@nestjs/bullmq';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import {
  ApprovalStore,
  QUEUES,
  type RedisClient,
  ResultsQueues,
  RetentionSweep,
  RUN_REDIS,
  RunStore,
  SEMANTIC_MEMORY,
  type SemanticMemory,
  TenantScheduler,
  TRIAD_CONFIG,
  type TriadConfig,
  TriadKeys,
} from '@triad/shared';
import type { Queue } from 'bullmq';

/** How often each planner repairs fair scheduling (see TenantScheduler.sweep). */
export const SCHEDULER_SWEEP_MS = 5_000;
/** How often a planner removes expired memories (one planner at a time: see memoryRetentionSweep). */
export const MEMORY_SWEEP_MS = 60_000;

/** One sweep run every `everyMs` (and at start), never two of it at once in this process. */
class Periodic {
  private timer?: NodeJS.Timeout;
  private running: Promise<void> | null = null;

  constructor(
    private readonly name: string,
    private readonly everyMs: number,
    private readonly sweep: () => Promise<number>,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.tick(), this.everyMs);
    this.timer.unref();
    this.tick(); // at start too: a planner restarted after a crash repairs at once
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  private tick(): void {
    if (this.running) return;
    this.running = this.sweep()
      .then((n) => {
        if (n) this.logger.log(`${this.name} sweep repaired ${n} entries`);
      })
      .catch((err: Error) => this.logger.warn(`${this.name} sweep failed: ${err.message}`))
      .finally(() => {
        this.running = null;
      });
  }
}

/**
 * The planners' periodic repairs. Scheduling: a run admitted by a process that died before starting it is started,
 * and the slot of an ended run whose release was lost is given back (idempotent, so planners may overlap). Retention:
 * index entries of runs whose data has expired, and jobs past the retention, are removed (one planner at a time, see
 * RetentionSweep), and so are memories past their expiry (TRIAD_MEMORY_RETENTION or the entry's own ttl; one planner
 * at a time, see memoryRetentionSweep).
 */
@Injectable()
export class PeriodicSweeps implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(PeriodicSweeps.name);
  private readonly sweeps: Periodic[];

  constructor(
    scheduler: TenantScheduler,
    @Inject(RUN_REDIS) redis: RedisClient,
    runs: RunStore,
    approvals: ApprovalStore,
    @Inject(TRIAD_CONFIG) config: TriadConfig,
    @Inject(getQueueToken(QUEUES.goals)) goals: Queue,
    @Inject(getQueueToken(QUEUES.plan)) plan: Queue,
    @Inject(getQueueToken(QUEUES.act)) act: Queue,
    @Inject(getQueueToken(QUEUES.judge)) judge: Queue,
    @Inject(getQueueToken(QUEUES.results)) results: Queue,
    ownResults: ResultsQueues,
    @Inject(getQueueToken(QUEUES.webhooks)) webhooks: Queue,
    @Inject(getQueueToken(QUEUES.archive)) archive: Queue,
    @Inject(SEMANTIC_MEMORY) memory: SemanticMemory,
  ) {
    const queues = [goals, plan, act, judge, results, webhooks, archive];
    const retention = new RetentionSweep(redis, runs, approvals, config.runData.retentionMs, queues, ownResults);
    this.sweeps = [
      new Periodic('scheduler', SCHEDULER_SWEEP_MS, () => scheduler.sweep(), this.logger),
      new Periodic('retention', retention.intervalMs, () => retention.sweep(), this.logger),
      new Periodic('memory retention', MEMORY_SWEEP_MS, memoryRetentionSweep(redis, config, memory), this.logger),
    ];
  }

  onApplicationBootstrap(): void {
    for (const s of this.sweeps) s.start();
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all(this.sweeps.map((s) => s.stop()));
  }
}

/**
 * Removes expired memories of every tenant, on one planner at a time: the one that takes the sweep's lock (held for
 * an interval, so the sweeps of a fleet do not pile up; were its holder to die, another takes over at the next).
 */
export function memoryRetentionSweep(
  redis: RedisClient,
  config: Pick<TriadConfig, 'prefix'>,
  memory: Pick<SemanticMemory, 'sweepExpired'>,
  everyMs = MEMORY_SWEEP_MS,
  now: () => number = Date.now,
): () => Promise<number> {
  const lock = new TriadKeys(config.prefix).memorySweepLock();
  return async () => {
    if (!(await redis.set(lock, String(process.pid), 'PX', everyMs, 'NX'))) return 0;
    return memory.sweepExpired(now());
  };
}
