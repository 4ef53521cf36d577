import { mkdir } from 'node:fs/promises';
import { type DynamicModule, Module } from '@nestjs/common';
import {
  REASONING_MODEL,
  type ReasoningModel,
  type RedisClient,
  reasoningModelProvider,
  type TriadConfig,
  TriadCoreModule,
} from '@triad/shared';
import { ActProcessor } from './act.processor.js';
import { ApprovalGate } from './approval-gate.js';
import { CancelListener } from './cancel-listener.js';
import { ExecutorService } from './executor.service.js';
import { createToolRegistry, McpConnections } from './tool-registry.provider.js';
import { ToolRegistry } from './tools/tool-registry.js';
import { Workspace } from './tools/workspace.js';

/** The executor: runs tool calls for any run; start as many as you like. */
@Module({})
export class ExecutorModule {
  static forRoot(config: TriadConfig, redis: RedisClient): DynamicModule {
    return {
      module: ExecutorModule,
      imports: [TriadCoreModule.forRoot(config, redis)],
      providers: [
        ActProcessor,
        ExecutorService,
        ApprovalGate,
        CancelListener,
        McpConnections,
        reasoningModelProvider(config),
        {
          provide: ToolRegistry,
          useFactory: (mcp: McpConnections, model: ReasoningModel) => createToolRegistry(config, mcp, model),
          inject: [McpConnections, REASONING_MODEL],
        },
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
