import { type DynamicModule, Module } from '@nestjs/common';
import { type RedisClient, reasoningModelProvider, type TriadConfig, TriadCoreModule } from '@triad/shared';
import { JudgeProcessor } from './judge.processor.js';
import { JudgeService } from './judge.service.js';
import { WebhookProcessor } from './webhooks/webhook.processor.js';
import { WebhookSender } from './webhooks/webhook-sender.service.js';

/** The judge: the Reflect stage, and the end of every run. */
@Module({})
export class JudgeModule {
  static forRoot(config: TriadConfig, redis: RedisClient): DynamicModule {
    return {
      module: JudgeModule,
      imports: [TriadCoreModule.forRoot(config, redis)],
      providers: [JudgeProcessor, JudgeService, WebhookProcessor, WebhookSender, reasoningModelProvider(config)],
    };
  }
}
