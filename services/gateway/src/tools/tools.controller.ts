import { Controller, Get } from '@nestjs/common';
import { ToolCatalog, type ToolsResponse } from '@triad/shared';
import { Roles } from '../auth/roles.decorator.js';

/** The tools the executors publish, with their argument schemas: what a goal may name and an approver may edit. */
@Controller('v1/tools')
export class ToolsController {
  constructor(private readonly catalog: ToolCatalog) {}

  @Get()
  @Roles('read', 'submit', 'approve')
  async list(): Promise<ToolsResponse> {
    return { tools: [...(await this.catalog.list())].sort((a, b) => a.name.localeCompare(b.name)) };
  }
}
