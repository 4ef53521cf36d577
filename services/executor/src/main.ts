// First: tracing must be set up before anything it instruments (ioredis, http) is loaded.
import '@triad/shared/register';
import { bootstrapService } from '@triad/shared';
import { ExecutorModule } from './executor.module.js';

await bootstrapService('executor', (config, redis) => ExecutorModule.forRoot(config, redis));
