import { Controller, Get, Headers, Inject, Param, Query, Req, Res } from '@nestjs/common';
import { RUN_ARCHIVE, RUN_ID_PATTERN, type RunArchive, RunStore, storeRunId } from '@triad/shared';
import type { Request, Response } from 'express';
import type { Caller } from '../auth/api-keys.js';
import { CurrentCaller, Roles } from '../auth/roles.decorator.js';
import { ApiException } from '../http/api-exception.js';
import { RunEventStream } from './run-event-stream.service.js';
import { RunSubmissionService } from './run-submission.service.js';

const STREAM_ID = /^([0-9]{1,20})-([0-9]{1,20})$/;
const U64_MAX = 2n ** 64n - 1n;

/** Whether `id` is an id Redis can hold: both parts unsigned 64-bit (a larger one makes Redis refuse the read). */
function isStreamId(id: string): boolean {
  const m = STREAM_ID.exec(id);
  return m !== null && BigInt(m[1]) <= U64_MAX && BigInt(m[2]) <= U64_MAX;
}

/**
 * A run's event stream as Server-Sent Events, resumable with Last-Event-ID; 400 for an id Redis cannot hold. A run
 * whose Redis data has expired is streamed from the archive (whole, then the stream ends).
 */
@Controller('v1/runs')
export class RunEventsController {
  constructor(
    private readonly store: RunStore,
    private readonly submission: RunSubmissionService,
    private readonly stream: RunEventStream,
    @Inject(RUN_ARCHIVE) private readonly archive: RunArchive | null,
  ) {}

  @Get(':id/events')
  @Roles('read')
  async events(
    @Param('id') id: string,
    @Headers('last-event-id') lastEventIdHeader: string | undefined,
    @Query('lastEventId') lastEventIdQuery: string | undefined,
    @CurrentCaller() caller: Caller,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const after = lastEventIdHeader || lastEventIdQuery || '0';
    if (after !== '0' && !isStreamId(after)) {
      throw new ApiException('invalid_request', 'Last-Event-ID is not an event id of this API', [
        { path: 'Last-Event-ID', message: 'expected <ms>-<seq>, each an unsigned 64-bit integer' },
      ]);
    }
    // A run just submitted is not in the store until a planner takes it in: stream it all the same. The goal job is
    // asked first: a planner creates the run before its goal job completes, so a job no longer pending means the run
    // is in the store (asked the other way round, a run taken in between the two reads was a 404).
    const storeId = storeRunId(caller.tenant, id);
    if (!RUN_ID_PATTERN.test(id)) throw new ApiException('not_found', `no run ${id}`);
    if ((await this.submission.isPending(storeId)) || (await this.store.get(storeId))) {
      return this.stream.pipe(storeId, after, caller.name, req, res);
    }
    if (this.archive && (await this.archive.get(storeId))) {
      return this.stream.pipeEnded(await this.archive.events(storeId), after, res);
    }
    throw new ApiException('not_found', `no run ${id}`);
  }
}
