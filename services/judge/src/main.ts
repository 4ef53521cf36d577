// First: tracing must be set up before anything it instruments (ioredis, http) is loaded.
import '@triad/shared/register';
import { bootstrapService } from '@triad/shared';
import { JudgeModule } from './judge.module.js';

await bootstrapService('judge', (config, redis) => JudgeModule.forRoot(config, redis));
