import { bootstrapService } from '@triad/shared';
import { ExecutorModule } from './executor.module.js';

await bootstrapService('executor', (config, redis) => ExecutorModule.forRoot(config, redis));
