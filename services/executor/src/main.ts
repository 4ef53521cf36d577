// First: tracing is set up before anything it instruments (http, when exporting) is loaded.
import '@triad/shared/register';
import { bootstrapService } from '@triad/shared';
import { ExecutorModule } from './executor.module.js';

await bootstrapService('executor', (config, redis) => ExecutorModule.forRoot(config, redis));
