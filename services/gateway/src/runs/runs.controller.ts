import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Inject,
  Param,
  Post,
  Query,
  Res,
  UseGuards,
} from '@nestjs/common';
import {
  CancelRunRequest,
  type CancelRunResponse,
  GoalRequest,
  isTerminal,
  ListRunsQuery,
  type ListRunsResponse,
  RUN_ARCHIVE,
  RUN_ID_PATTERN,
  type RunArchive,
  RunControl,
  type RunRecord,
  RunStore,
  runView,
  type SubmitRunResponse,
  secondsToNextUtcDay,
  storeRunId,
  TenantUsageStore,
  TRIAD_CONFIG,
  type TriadConfig,
  tenantLimits,
} from '@triad/shared';
import type { Response } from 'express';
import type { Caller } from '../auth/api-keys.js';
import { CurrentCaller, Roles } from '../auth/roles.decorator.js';
import { ApiException, parseOr400 } from '../http/api-exception.js';
import { IntakeOpenGuard } from '../http/intake-open.guard.js';
import { RunListingService } from './run-listing.service.js';
import { RunSubmissionService } from './run-submission.service.js';

/**
 * The run `id` of the caller's tenant (its record as stored), or a 404 answer: another tenant's run is not there.
 * Given the archive, a run whose Redis data has expired is read from it (its record says `archived`).
 */
export async function findRun(
  store: RunStore,
  caller: Caller,
  id: string,
  archive: RunArchive | null = null,
): Promise<RunRecord> {
  const storeId = storeRunId(caller.tenant, id);
  const run = RUN_ID_PATTERN.test(id) ? ((await store.get(storeId)) ?? (await archive?.get(storeId)) ?? null) : null;
  if (!run) throw new ApiException('not_found', `no run ${id}`);
  return run;
}

/** A tenant past a daily spend cap gets a 429 until the next UTC day (only a tenant with a cap pays the read). */
export async function refuseOverSpendCap(
  usage: TenantUsageStore,
  config: TriadConfig,
  tenant: string,
  res: Response,
): Promise<void> {
  const now = Date.now();
  const refused = await usage.refusal(tenant, tenantLimits(config, tenant), now);
  if (!refused) return;
  res.setHeader('Retry-After', String(secondsToNextUtcDay(now)));
  throw new ApiException('too_many_requests', refused);
}

/** Submitting, reading, listing, cancelling and deleting runs. */
@Controller('v1/runs')
export class RunsController {
  constructor(
    private readonly store: RunStore,
    private readonly submission: RunSubmissionService,
    private readonly listing: RunListingService,
    private readonly control: RunControl,
    private readonly usage: TenantUsageStore,
    @Inject(TRIAD_CONFIG) private readonly config: TriadConfig,
    @Inject(RUN_ARCHIVE) private readonly archive: RunArchive | null,
  ) {}

  @Post()
  @HttpCode(202)
  @Roles('submit')
  @UseGuards(IntakeOpenGuard)
  async submit(
    @Body() body: unknown,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @CurrentCaller() caller: Caller,
    @Res({ passthrough: true }) res: Response,
  ): Promise<SubmitRunResponse> {
    if (idempotencyKey !== undefined && (idempotencyKey.length < 1 || idempotencyKey.length > 255)) {
      throw new ApiException('invalid_request', 'Idempotency-Key must be 1-255 characters', [
        { path: 'Idempotency-Key', message: 'must be 1-255 characters' },
      ]);
    }
    const request = parseOr400(GoalRequest, body ?? null);
    if (request.tenant !== undefined && request.tenant !== caller.tenant) {
      throw new ApiException(
        'forbidden',
        `the goal names tenant "${request.tenant}" but key "${caller.name}" acts for "${caller.tenant}"` +
          ' (an admin key names the tenant it acts for in X-Triad-Tenant)',
      );
    }
    await this.refuseOverSpendCap(caller.tenant, res);
    const answer = await this.submission.submit({ ...request, tenant: caller.tenant }, idempotencyKey ?? null);
    res.setHeader('Location', answer.url);
    return answer;
  }

  private refuseOverSpendCap(tenant: string, res: Response): Promise<void> {
    return refuseOverSpendCap(this.usage, this.config, tenant, res);
  }

  @Get()
  @Roles('read')
  list(@Query() query: Record<string, unknown>, @CurrentCaller() caller: Caller): Promise<ListRunsResponse> {
    return this.listing.list(caller.tenant, parseOr400(ListRunsQuery, query, 'query'));
  }

  @Get(':id')
  @Roles('read')
  async get(@Param('id') id: string, @CurrentCaller() caller: Caller): Promise<RunRecord> {
    return runView(await findRun(this.store, caller, id, this.archive));
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @Roles('submit')
  async cancel(
    @Param('id') id: string,
    @Body() body: unknown,
    @CurrentCaller() caller: Caller,
  ): Promise<CancelRunResponse> {
    const { reason } = parseOr400(CancelRunRequest, body ?? {});
    const { id: storeId } = await findRun(this.store, caller, id);
    const cancelled = await this.control.cancel(storeId, caller.name, reason);
    const run = await findRun(this.store, caller, id);
    return { runId: id, cancelled, status: run.status };
  }

  /**
   * Deletes an ended run at once, from Redis and from the archive (an admin's; retention lets Redis data expire
   * after TRIAD_RUN_RETENTION, the archive keeps it until deleted).
   */
  @Delete(':id')
  @HttpCode(204)
  @Roles('admin')
  async remove(@Param('id') id: string, @CurrentCaller() caller: Caller): Promise<void> {
    const run = await findRun(this.store, caller, id, this.archive);
    if (!isTerminal(run.status)) throw new ApiException('conflict', `run ${id} is still running: cancel it first`);
    // The archive first: a run deleted from Redis alone would come back from the archive.
    await this.archive?.delete(run.id);
    await this.store.remove(run.id);
  }
}
