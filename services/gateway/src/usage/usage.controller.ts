import { Controller, Get, Inject, Query } from '@nestjs/common';
import {
  TenantUsageStore,
  TRIAD_CONFIG,
  type TriadConfig,
  tenantLimits,
  UsageQuery,
  type UsageResponse,
} from '@triad/shared';
import type { Caller } from '../auth/api-keys.js';
import { CurrentCaller, Roles } from '../auth/roles.decorator.js';
import { parseOr400 } from '../http/api-exception.js';

/** A tenant's model spend, tokens and runs per UTC day (usage is kept 8 days, so at most 7 are asked for). */
@Controller('v1/usage')
export class UsageController {
  constructor(
    private readonly usage: TenantUsageStore,
    @Inject(TRIAD_CONFIG) private readonly config: TriadConfig,
  ) {}

  @Get()
  @Roles('read')
  async get(@Query() query: Record<string, unknown>, @CurrentCaller() caller: Caller): Promise<UsageResponse> {
    const { days } = parseOr400(UsageQuery, query, 'query');
    const caps = tenantLimits(this.config, caller.tenant);
    const limits = { maxCostUsdPerDay: caps.maxCostUsdPerDay ?? null, maxTokensPerDay: caps.maxTokensPerDay ?? null };
    const figures = await this.usage.usage(caller.tenant, days);
    return { tenant: caller.tenant, days: figures.map((d) => ({ ...d, limits })) };
  }
}
