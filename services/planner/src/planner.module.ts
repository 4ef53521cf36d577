import { BullModule } from '@nestjs/bullmq';
import { type DynamicModule, Module } from '@nestjs/common';
import {
  QUEUES,
  type RedisClient,
  reasoningModelProvider,
  redisCapacityProvider,
  type TriadConfig,
  TriadCoreModule,
} from '@triad/shared';
import { GoalProcessor } from './goal.processor.js';
import { IntakeService } from './intake.service.js';
import { LessonRecall } from './lesson-recall.js';
import { PeriodicSweeps } from './periodic-sweeps.js';
import { PlanProcessor } from './plan.processor.js';
import { PlannerService } from './planner.service.js';

/** The planner: takes goals in and runs the Interpret and Plan stages of every iteration. */
@Module({})
export class PlannerModule {
  static forRoot(config: TriadConfig, redis: RedisClient): DynamicModule {
    return {
      module: PlannerModule,
      imports: [TriadCoreModule.forRoot(config, redis), BullModule.registerQueue({ name: QUEUES.goals })],
      providers: [
        GoalProcessor,
        PlanProcessor,
        IntakeService,
        PlannerService,
        LessonRecall,
        PeriodicSweeps,
        reasoningModelProvider(config),
        redisCapacityProvider(config),
      ],
    };
  }
}
