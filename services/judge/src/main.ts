import { bootstrapService } from '@triad/shared';
import { JudgeModule } from './judge.module.js';

await bootstrapService('judge', (config, redis) => JudgeModule.forRoot(config, redis));
