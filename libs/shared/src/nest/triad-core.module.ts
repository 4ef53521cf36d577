import { BullModule, getFlowProducerToken, getQueueToken } from '@nestjs/bullmq';
import { type DynamicModule, Module } from '@nestjs/common';
import { QUEUES } from '@triad/contracts';
import { type FlowProducer, Queue } from 'bullmq';
import type { TriadConfig } from '../config/triad-config.js';
import { LoopHandOff } from '../loop/loop-hand-off.js';
import { RunLoop } from '../loop/run-loop.js';
import { DistillDispatch } from '../memory/distill-dispatch.js';
import { defaultJobOptions } from '../queue/job-options.js';
import type { RedisClient } from '../queue/redis-connection.js';
import { ApprovalNotifier } from '../runs/approval-notifier.js';
import { Approvals } from '../runs/approvals.js';
import { ResultsQueues } from '../runs/results-queues.js';
import { RunControl } from '../runs/run-control.js';
import { RunFinisher } from '../runs/run-finisher.js';
import { RunRetention } from '../runs/run-retention.js';
import { TenantScheduler } from '../runs/tenant-scheduler.js';
import { ApprovalStore } from '../store/approval-store.js';
import { GoalBacklog } from '../store/goal-backlog.js';
import { RunStore } from '../store/run-store.js';
import { TenantSlots } from '../store/tenant-slots.js';
import { TenantUsageStore } from '../store/tenant-usage-store.js';
import { ToolCatalog } from '../store/tool-catalog.js';
import { bullmqTelemetry } from '../telemetry/bullmq-telemetry.js';
import { semanticMemoryProvider } from './semantic-memory.provider.js';
import { RUN_REDIS, SEMANTIC_MEMORY, TRIAD_CONFIG } from './tokens.js';

/** The flow producer of the loop's hand-offs (an iteration's tool steps and their judge). */
const LOOP_FLOWS = 'triad-loop';

/**
 * The plumbing every Triad service shares: configuration, the Redis connection, BullMQ root options, the run store,
 * the run loop and the run finisher (which need the loop's queues), the tenants' semantic memory (SEMANTIC_MEMORY). The Redis connection is owned by the caller
 * (see bootstrapService), which closes it after the workers have stopped.
 */
@Module({})
export class TriadCoreModule {
  static forRoot(config: TriadConfig, redis: RedisClient): DynamicModule {
    const jobDefaults = defaultJobOptions(config.jobAttempts, config.runData.retentionMs);
    return {
      module: TriadCoreModule,
      global: true,
      imports: [
        BullModule.forRoot({
          connection: redis,
          prefix: config.prefix,
          defaultJobOptions: jobDefaults,
          telemetry: bullmqTelemetry(),
        }),
        BullModule.registerQueue(
          { name: QUEUES.plan },
          { name: QUEUES.act },
          { name: QUEUES.judge },
          { name: QUEUES.results },
          { name: QUEUES.webhooks },
          { name: QUEUES.archive },
        ),
        // Its shutdown would otherwise force-disconnect the shared connection while workers still finish their jobs.
        BullModule.registerFlowProducer({ name: LOOP_FLOWS, forceDisconnectOnShutdown: false }),
      ],
      providers: [
        { provide: TRIAD_CONFIG, useValue: config },
        { provide: RUN_REDIS, useValue: redis },
        semanticMemoryProvider(config),
        { provide: RunStore, useFactory: (r: RedisClient) => new RunStore(r, config.prefix), inject: [RUN_REDIS] },
        {
          provide: TenantUsageStore,
          useFactory: (r: RedisClient) => new TenantUsageStore(r, config.prefix),
          inject: [RUN_REDIS],
        },
        {
          provide: ToolCatalog,
          useFactory: (r: RedisClient) => new ToolCatalog(r, config.prefix),
          inject: [RUN_REDIS],
        },
        {
          provide: GoalBacklog,
          useFactory: (r: RedisClient) => new GoalBacklog(r, config.prefix),
          inject: [RUN_REDIS],
        },
        {
          provide: TenantScheduler,
          useFactory: (r: RedisClient, store: RunStore, handOff: LoopHandOff) =>
            new TenantScheduler(new TenantSlots(r, config.prefix), store, handOff, config),
          inject: [RUN_REDIS, RunStore, LoopHandOff],
        },
        {
          provide: RunRetention,
          useFactory: (store: RunStore, archive: Queue) =>
            new RunRetention(store, config.runData.retentionMs, config.runData.archiveUrl ? archive : undefined),
          inject: [RunStore, getQueueToken(QUEUES.archive)],
        },
        {
          provide: ResultsQueues,
          useFactory: (r: RedisClient, shared: Queue) =>
            new ResultsQueues(
              shared,
              r,
              config.prefix,
              (name) =>
                new Queue(name, {
                  connection: r,
                  prefix: config.prefix,
                  defaultJobOptions: jobDefaults,
                  telemetry: bullmqTelemetry(),
                }),
            ),
          inject: [RUN_REDIS, getQueueToken(QUEUES.results)],
        },
        {
          provide: RunFinisher,
          useFactory: (
            store: RunStore,
            results: ResultsQueues,
            webhooks: Queue,
            scheduler: TenantScheduler,
            retention: RunRetention,
            judge: Queue,
          ) =>
            new RunFinisher(
              store,
              results,
              {
                queue: webhooks,
                attempts: config.resultWebhooks.attempts,
                backoffMs: config.resultWebhooks.backoffMs,
              },
              scheduler,
              retention,
              new DistillDispatch(judge, store, config, jobDefaults),
            ),
          inject: [
            RunStore,
            ResultsQueues,
            getQueueToken(QUEUES.webhooks),
            TenantScheduler,
            RunRetention,
            getQueueToken(QUEUES.judge),
          ],
        },
        {
          provide: LoopHandOff,
          useFactory: (plan: Queue, act: Queue, judge: Queue, flows: FlowProducer) =>
            new LoopHandOff({ plan, act, judge }, flows, jobDefaults),
          inject: [
            getQueueToken(QUEUES.plan),
            getQueueToken(QUEUES.act),
            getQueueToken(QUEUES.judge),
            getFlowProducerToken(LOOP_FLOWS),
          ],
        },
        {
          provide: RunLoop,
          useFactory: (store: RunStore, finisher: RunFinisher, handOff: LoopHandOff) =>
            new RunLoop(store, finisher, handOff, config.maxCallsPerReply),
          inject: [RunStore, RunFinisher, LoopHandOff],
        },
        {
          provide: ApprovalStore,
          useFactory: (r: RedisClient) => new ApprovalStore(r, config.prefix),
          inject: [RUN_REDIS],
        },
        {
          provide: ApprovalNotifier,
          useFactory: (webhooks: Queue) =>
            new ApprovalNotifier(config.approval.webhookUrl ? webhooks : undefined, config.resultWebhooks),
          inject: [getQueueToken(QUEUES.webhooks)],
        },
        {
          provide: Approvals,
          useFactory: (store: ApprovalStore, handOff: LoopHandOff, notifier: ApprovalNotifier) =>
            new Approvals(store, handOff, notifier),
          inject: [ApprovalStore, LoopHandOff, ApprovalNotifier],
        },
        {
          provide: RunControl,
          useFactory: (r: RedisClient, s: RunStore, f: RunFinisher, a: Approvals) => new RunControl(r, s, f, a),
          inject: [RUN_REDIS, RunStore, RunFinisher, Approvals],
        },
      ],
      exports: [
        TRIAD_CONFIG,
        RUN_REDIS,
        SEMANTIC_MEMORY,
        RunStore,
        TenantUsageStore,
        RunFinisher,
        ResultsQueues,
        RunRetention,
        RunLoop,
        TenantScheduler,
        ToolCatalog,
        GoalBacklog,
        ApprovalStore,
        ApprovalNotifier,
        Approvals,
        RunControl,
        BullModule,
      ],
    };
  }
}
