import { BullModule } from '@nestjs/bullmq';
import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import {
  QUEUES,
  type RedisClient,
  redisCapacityProvider,
  runArchiveProvider,
  type TriadConfig,
  TriadCoreModule,
} from '@triad/shared';
import { ApprovalsController } from './approvals/approvals.controller.js';
import { ApiKeyGuard } from './auth/api-key.guard.js';
import { ApiKeys } from './auth/api-keys.js';
import { SessionController } from './auth/session.controller.js';
import { HealthController } from './health/health.controller.js';
import { ApiExceptionFilter } from './http/api-exception.filter.js';
import { IntakeOpenGuard } from './http/intake-open.guard.js';
import { MemoriesController } from './memories/memories.controller.js';
import { RunCountsController } from './runs/run-counts.controller.js';
import { RunCountsService } from './runs/run-counts.service.js';
import { RunEventReader } from './runs/run-event-reader.js';
import { RunEventStream } from './runs/run-event-stream.service.js';
import { RunEventsController } from './runs/run-events.controller.js';
import { RunLineageController } from './runs/run-lineage.controller.js';
import { RunListingService } from './runs/run-listing.service.js';
import { RunSubmissionService } from './runs/run-submission.service.js';
import { RunsController } from './runs/runs.controller.js';
import { StreamSlots } from './runs/stream-slots.js';
import { ToolsController } from './tools/tools.controller.js';
import { UsageController } from './usage/usage.controller.js';

/** Every controller of the gateway (the OpenAPI spec checks that each of their routes is in the route table). */
export const GATEWAY_CONTROLLERS = [
  RunsController,
  RunLineageController,
  RunCountsController,
  RunEventsController,
  ApprovalsController,
  HealthController,
  UsageController,
  ToolsController,
  MemoriesController,
  SessionController,
];

/** The HTTP gateway: stateless, any number of replicas; everything it does goes through Redis and the queues. */
@Module({})
export class GatewayModule {
  static forRoot(config: TriadConfig, redis: RedisClient): DynamicModule {
    return {
      module: GatewayModule,
      imports: [
        TriadCoreModule.forRoot(config, redis),
        BullModule.registerQueue({ name: QUEUES.goals }),
        TerminusModule.forRoot({ logger: false }),
      ],
      controllers: GATEWAY_CONTROLLERS,
      providers: [
        RunSubmissionService,
        RunListingService,
        RunCountsService,
        RunEventStream,
        RunEventReader,
        StreamSlots,
        redisCapacityProvider(config),
        runArchiveProvider(config),
        IntakeOpenGuard,
        { provide: ApiKeys, useValue: new ApiKeys(config.gateway.apiKeys) },
        { provide: APP_GUARD, useClass: ApiKeyGuard },
        { provide: APP_FILTER, useClass: ApiExceptionFilter },
      ],
    };
  }
}
