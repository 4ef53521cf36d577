import { type DynamicModule, Module } from '@nestjs/common';
import { reasoningModelProvider, runArchiveProvider, type TriadConfig, TriadCoreModule } from '@triad/shared';
import type { Redis } from 'ioredis';
import { ArchiveProcessor } from './archive/archive.processor.js';
import { JudgeProcessor } from './judge.processor.js';
import { JudgeService } from './judge.service.js';
import { WebhookProcessor } from './webhooks/webhook.processor.js';
import { WebhookSender } from './webhooks/webhook-sender.service.js';

/** The judge: the Reflect stage, and the end of every run (its result webhook, and its archive when there is one). */
@Module({})
export class JudgeModule {
  static forRoot(config: TriadConfig, redis: Redis): DynamicModule {
    return {
      module: JudgeModule,
      imports: [TriadCoreModule.forRoot(config, redis)],
      providers: [
        JudgeProcessor,
        JudgeService,
        WebhookProcessor,
        WebhookSender,
        reasoningModelProvider(config),
        ...(config.runData.archiveUrl ? [runArchiveProvider(config), ArchiveProcessor] : []),
      ],
    };
  }
}
