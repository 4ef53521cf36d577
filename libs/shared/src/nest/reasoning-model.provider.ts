import type { Provider } from '@nestjs/common';
import type { TriadConfig } from '../config/triad-config.js';
import { OpenAIReasoningModel } from '../reasoning/reasoning-model.js';
import { SpendCappedModel } from '../reasoning/spend-capped-model.js';
import { TenantUsageStore } from '../store/tenant-usage-store.js';
import { REASONING_MODEL } from './tokens.js';

/**
 * The model of a service that asks one (planner, judge, the executor's self_check): the configured OpenAI-compatible
 * server, under tenant spend caps.
 */
export function reasoningModelProvider(config: TriadConfig): Provider {
  return {
    provide: REASONING_MODEL,
    useFactory: (usage: TenantUsageStore) =>
      new SpendCappedModel(new OpenAIReasoningModel(config.model), usage, config),
    inject: [TenantUsageStore],
  };
}
