// First: tracing must be set up before anything it instruments (ioredis, http) is loaded.
import '@triad/shared/register';
import { bootstrapService } from '@triad/shared';
import { PlannerModule } from './planner.module.js';

await bootstrapService('planner', (config, redis) => PlannerModule.forRoot(config, redis));
