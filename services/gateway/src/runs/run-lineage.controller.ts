import { Body, Controller, Headers, HttpCode, Inject, Param, Post, Res, UseGuards } from '@nestjs/common';
import {
  ForkRunRequest,
  forkRefusal,
  type GoalRequest,
  type LineageRefusal,
  type ParentRun,
  ReplayRunRequest,
  RUN_ID_PATTERN,
  RunStore,
  readParent,
  replayRefusal,
  type SubmitRunResponse,
  TenantUsageStore,
  TRIAD_CONFIG,
  type TriadConfig,
} from '@triad/shared';
import type { Response } from 'express';
import type { Caller } from '../auth/api-keys.js';
import { CurrentCaller, Roles } from '../auth/roles.decorator.js';
import { ApiException, parseOr400 } from '../http/api-exception.js';
import { IntakeOpenGuard } from '../http/intake-open.guard.js';
import { RunSubmissionService } from './run-submission.service.js';
import { refuseOverSpendCap } from './runs.controller.js';

/**
 * Forks and replays: a new run from a run of the caller's tenant, submitted like any goal (the planner's intake
 * seeds it from the parent). Checked here first, so a bad request gets its 400, 404 or 409 at once.
 */
@Controller('v1/runs')
export class RunLineageController {
  constructor(
    private readonly store: RunStore,
    private readonly submission: RunSubmissionService,
    private readonly usage: TenantUsageStore,
    @Inject(TRIAD_CONFIG) private readonly config: TriadConfig,
  ) {}

  @Post(':id/fork')
  @HttpCode(202)
  @Roles('submit')
  @UseGuards(IntakeOpenGuard)
  async fork(
    @Param('id') id: string,
    @Body() body: unknown,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @CurrentCaller() caller: Caller,
    @Res({ passthrough: true }) res: Response,
  ): Promise<SubmitRunResponse> {
    const ask = parseOr400(ForkRunRequest, body ?? null);
    const parent = await this.parent(caller, id);
    const request = childRequest(parent, {
      goal: ask.goal,
      model: ask.model,
      budget: ask.budget,
      forkOf: { runId: id, iteration: ask.fromIteration },
    });
    refuse(forkRefusal(parent, ask.fromIteration, request.budget.maxIterations));
    await refuseOverSpendCap(this.usage, this.config, caller.tenant, res);
    return this.submit(request, caller, idempotencyKey, res);
  }

  @Post(':id/replay')
  @HttpCode(202)
  @Roles('submit')
  @UseGuards(IntakeOpenGuard)
  async replay(
    @Param('id') id: string,
    @Body() body: unknown,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @CurrentCaller() caller: Caller,
    @Res({ passthrough: true }) res: Response,
  ): Promise<SubmitRunResponse> {
    const ask = parseOr400(ReplayRunRequest, body ?? {});
    const parent = await this.parent(caller, id);
    refuse(replayRefusal(parent));
    const replayOf = { runId: id, liveModel: ask.liveModel, toolsLive: ask.toolsLive };
    const request = childRequest(parent, { model: ask.liveModel ? ask.model : undefined, replayOf });
    // Playing a recording asks no model: only a replay with a live model is held to the tenant's spend cap.
    if (ask.liveModel) await refuseOverSpendCap(this.usage, this.config, caller.tenant, res);
    return this.submit(request, caller, idempotencyKey, res);
  }

  private async submit(
    request: GoalRequest,
    caller: Caller,
    idempotencyKey: string | undefined,
    res: Response,
  ): Promise<SubmitRunResponse> {
    const answer = await this.submission.submit({ ...request, tenant: caller.tenant }, idempotencyKey ?? null);
    res.setHeader('Location', answer.url);
    return answer;
  }

  /** The parent, of the caller's tenant, with its ledger; 404 when unknown, 409 when its data has left Redis. */
  private async parent(caller: Caller, id: string): Promise<ParentRun> {
    if (!RUN_ID_PATTERN.test(id)) throw new ApiException('not_found', `no run ${id}`);
    const parent = await readParent(this.store, caller.tenant, id);
    if (!parent) {
      throw new ApiException(
        'not_found',
        `no run ${id} in Redis (an archived run's ledger cannot be forked or replayed)`,
      );
    }
    return parent;
  }
}

/**
 * The child's goal: the parent's, with what the caller changed. A new run id; no callbackUrl (the parent's receiver
 * did not ask for the child's result: it is on the results queue and the API).
 */
function childRequest(parent: ParentRun, change: Partial<GoalRequest>): GoalRequest {
  const {
    runId: _runId,
    callbackUrl: _callbackUrl,
    forkOf: _f,
    replayOf: _r,
    ...base
  } = parent.run.request as GoalRequest;
  const defined = Object.fromEntries(Object.entries(change).filter(([, v]) => v !== undefined));
  return { ...base, ...defined } as GoalRequest;
}

function refuse(refusal: LineageRefusal | null): void {
  if (!refusal) return;
  if (refusal.code === 'conflict') throw new ApiException('conflict', refusal.message);
  throw new ApiException('invalid_request', refusal.message);
}
