import { Controller, Get } from '@nestjs/common';
import type { RunCountsResponse } from '@triad/shared';
import type { Caller } from '../auth/api-keys.js';
import { CurrentCaller, Roles } from '../auth/roles.decorator.js';
import { RunCountsService } from './run-counts.service.js';

/** How many of the caller's tenant's runs are in each status (the console's filter tabs). */
@Controller('v1/run-counts')
export class RunCountsController {
  constructor(private readonly counts: RunCountsService) {}

  @Get()
  @Roles('read')
  get(@CurrentCaller() caller: Caller): Promise<RunCountsResponse> {
    return this.counts.counts(caller.tenant);
  }
}
