// First: tracing is set up before anything it instruments (http, when exporting) is loaded.
import '@triad/shared/register';
import { bootstrapService } from '@triad/shared';
import { JudgeModule } from './judge.module.js';

await bootstrapService('judge', (config, redis) => JudgeModule.forRoot(config, redis));
