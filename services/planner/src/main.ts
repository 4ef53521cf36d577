// First: tracing is set up before anything it instruments (http, when exporting) is loaded.
import '@triad/shared/register';
import { bootstrapService } from '@triad/shared';
import { PlannerModule } from './planner.module.js';

await bootstrapService('planner', (config, redis) => PlannerModule.forRoot(config, redis));
