import { bootstrapService } from '@triad/shared';
import { PlannerModule } from './planner.module.js';

await bootstrapService('planner', (config, redis) => PlannerModule.forRoot(config, redis));
