import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import {
  CancelRunRequest,
  type CancelRunResponse,
  GoalRequest,
  ListRunsQuery,
  type ListRunsResponse,
  RUN_ID_PATTERN,
  RunControl,
  type RunRecord,
  RunStore,
  type SubmitRunResponse,
} from '@triad/shared';
import type { Response } from 'express';
import type { Caller } from '../auth/api-keys.js';
import { CurrentCaller, Roles } from '../auth/roles.decorator.js';
import { ApiException, parseOr400 } from '../http/api-exception.js';
import { RunListingService } from './run-listing.service.js';
import { RunSubmissionService } from './run-submission.service.js';

/** The run record, or a 404 answer. */
export async function findRun(store: RunStore, id: string): Promise<RunRecord> {
  const run = RUN_ID_PATTERN.test(id) ? await store.get(id) : null;
  if (!run) throw new ApiException('not_found', `no run ${id}`);
  return run;
}

/** Submitting, reading, listing and cancelling runs. */
@Controller('v1/runs')
export class RunsController {
  constructor(
    private readonly store: RunStore,
    private readonly submission: RunSubmissionService,
    private readonly listing: RunListingService,
    private readonly control: RunControl,
  ) {}

  @Post()
  @HttpCode(202)
  @Roles('submit')
  async submit(
    @Body() body: unknown,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<SubmitRunResponse> {
    if (idempotencyKey !== undefined && (idempotencyKey.length < 1 || idempotencyKey.length > 255)) {
      throw new ApiException('invalid_request', 'Idempotency-Key must be 1-255 characters', [
        { path: 'Idempotency-Key', message: 'must be 1-255 characters' },
      ]);
    }
    const request = parseOr400(GoalRequest, body ?? null);
    const answer = await this.submission.submit(request, idempotencyKey ?? null);
    res.setHeader('Location', answer.url);
    return answer;
  }

  @Get()
  @Roles('read')
  list(@Query() query: Record<string, unknown>): Promise<ListRunsResponse> {
    return this.listing.list(parseOr400(ListRunsQuery, query, 'query'));
  }

  @Get(':id')
  @Roles('read')
  get(@Param('id') id: string): Promise<RunRecord> {
    return findRun(this.store, id);
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
    await findRun(this.store, id);
    const cancelled = await this.control.cancel(id, caller.name, reason);
    const run = await findRun(this.store, id);
    return { runId: id, cancelled, status: run.status };
  }
}
