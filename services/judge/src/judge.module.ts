import { type DynamicModule, Module } from '@nestjs/common';
import {
  type RedisClient,
  reasoningModelProvider,
  runArchiveProvider,
  type TriadConfig,
  TriadCoreModule,
} from '@triad/shared';
import { ArchiveProcessor } from './archive/archive.processor.js';
import { JudgeProcessor } from './judge.processor.js';
import { JudgeService } from './judge.service.js';
import { LessonDistiller } from './memory/lesson-distiller.js';
import { ApprovalWebhookService } from './webhooks/approval-webhook.service.js';
import { WebhookProcessor } from './webhooks/webhook.processor.js';
import { WebhookSender } from './webhooks/webhook-sender.service.js';

/**
 * The judge: the Reflect stage, and the end of every run (its result webhook, its archive when there is one, and the
 * lessons it teaches).
 */
@Module({})
export class JudgeModule {
  static forRoot(config: TriadConfig, redis: RedisClient): DynamicModule {
    return {
      module: JudgeModule,
      imports: [TriadCoreModule.forRoot(config, redis)],
      providers: [
        JudgeProcessor,
        JudgeService,
        LessonDistiller,
        WebhookProcessor,
        WebhookSender,
        ApprovalWebhookService,
        reasoningModelProvider(config),
        ...(config.runData.archiveUrl ? [runArchiveProvider(config), ArchiveProcessor] : []),
      ],
    };
  }
}
