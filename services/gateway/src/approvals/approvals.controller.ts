import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import {
  type ApprovalDecision,
  ApprovalNotPendingError,
  type ApprovalRecord,
  Approvals,
  ApprovalsResponse,
  ApproveRequest,
  approvalView,
  RejectRequest,
  RunStore,
  redactArguments,
  ToolCatalog,
} from '@triad/shared';
import type { z } from 'zod';
import type { Caller } from '../auth/api-keys.js';
import { CurrentCaller, Roles } from '../auth/roles.decorator.js';
import { ApiException, parseOr400 } from '../http/api-exception.js';
import { findRun } from '../runs/runs.controller.js';

/** Pending approval gates, and the human decisions on them (the caller's key name is recorded as the decider). */
@Controller('v1')
export class ApprovalsController {
  constructor(
    private readonly approvals: Approvals,
    private readonly store: RunStore,
    private readonly catalog: ToolCatalog,
  ) {}

  @Get('approvals')
  @Roles('read', 'approve')
  async pending(@CurrentCaller() caller: Caller): Promise<z.infer<typeof ApprovalsResponse>> {
    return { approvals: (await this.approvals.listPending(caller.tenant, { limit: 1000 })).map(approvalView) };
  }

  @Get('runs/:id/approvals')
  @Roles('read', 'approve')
  async pendingOfRun(
    @Param('id') id: string,
    @CurrentCaller() caller: Caller,
  ): Promise<z.infer<typeof ApprovalsResponse>> {
    const run = await findRun(this.store, caller, id);
    return {
      approvals: (await this.approvals.listPending(caller.tenant, { runId: run.id, limit: 1000 })).map(approvalView),
    };
  }

  @Post('runs/:id/approvals/:approvalId/approve')
  @HttpCode(200)
  @Roles('approve')
  approve(
    @Param('id') id: string,
    @Param('approvalId') approvalId: string,
    @Body() body: unknown,
    @CurrentCaller() caller: Caller,
  ): Promise<{ approval: ApprovalRecord }> {
    const { arguments: args } = parseOr400(ApproveRequest, body ?? {});
    const edited = args == null ? null : typeof args === 'string' ? args : JSON.stringify(args);
    return this.decide(caller, id, approvalId, { decision: 'approve', by: caller.name, arguments: edited });
  }

  @Post('runs/:id/approvals/:approvalId/reject')
  @HttpCode(200)
  @Roles('approve')
  reject(
    @Param('id') id: string,
    @Param('approvalId') approvalId: string,
    @Body() body: unknown,
    @CurrentCaller() caller: Caller,
  ): Promise<{ approval: ApprovalRecord }> {
    const { reason } = parseOr400(RejectRequest, body ?? null);
    return this.decide(caller, id, approvalId, { decision: 'reject', by: caller.name, reason });
  }

  private async decide(
    caller: Caller,
    runId: string,
    approvalId: string,
    d: ApprovalDecision,
  ): Promise<{ approval: ApprovalRecord }> {
    const { id: storeId } = await findRun(this.store, caller, runId);
    if (!(await this.approvals.get(storeId, approvalId))) {
      throw new ApiException('not_found', `no approval ${approvalId} in run ${runId}`);
    }
    try {
      return { approval: await this.shown(await this.approvals.decide(storeId, approvalId, d)) };
    } catch (err) {
      if (err instanceof ApprovalNotPendingError) throw new ApiException('conflict', err.message);
      throw err;
    }
  }

  // The approver's edit may carry a secret of their own (a token): the record keeps it for the call, answers do not.
  private async shown(a: ApprovalRecord): Promise<ApprovalRecord> {
    if (a.editedArguments === null) return approvalView(a);
    const secrets = (await this.catalog.list()).find((t) => t.name === a.tool)?.secretArguments ?? [];
    return { ...approvalView(a), editedArguments: redactArguments(a.editedArguments, secrets) };
  }
}
