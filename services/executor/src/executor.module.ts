import { mkdir } from 'node:fs/promises';
import { type DynamicModule, Module } from '@nestjs/common';
import { type TriadConfig, TriadCoreModule } from '@triad/shared';
import type { Redis } from 'ioredis';
import { ActProcessor } from './act.processor.js';
import { ExecutorService } from './executor.service.js';
import { builtinTools } from './tools/builtin-tools.js';
import { ToolRegistry } from './tools/tool-registry.js';
import { Workspace } from './tools/workspace.js';

/** The executor: runs tool calls for any run; start as many as you like. */
@Module({})
export class ExecutorModule {
  static forRoot(config: TriadConfig, redis: Redis): DynamicModule {
    return {
      module: ExecutorModule,
      imports: [TriadCoreModule.forRoot(config, redis)],
      providers: [
        ActProcessor,
        ExecutorService,
        { provide: ToolRegistry, useValue: new ToolRegistry(builtinTools()) },
        {
          provide: Workspace,
          useFactory: async () => {
            await mkdir(config.workspace, { recursive: true });
            return Workspace.open(config.workspace);
          },
        },
      ],
    };
  }
}
