import {
  ApiError,
  type ApiRole,
  ApprovalRecord,
  ApprovalResponse,
  ApprovalsResponse,
  ApprovalWebhookPayload,
  ApproveRequest,
  CancelRunRequest,
  CancelRunResponse,
  CreateMemoryResponse,
  DeleteMemoriesQuery,
  DeleteMemoriesResponse,
  ForkRunRequest,
  GoalRequest,
  ListMemoriesQuery,
  ListMemoriesResponse,
  ListRunsQuery,
  ListRunsResponse,
  MemoryEntry,
  MemoryId,
  MemorySearch,
  MemoryWrite,
  RejectRequest,
  ReplayRunRequest,
  RunCountsResponse,
  RunEvent,
  RunFinished,
  RunId,
  RunRecord,
  RunStatus,
  SearchMemoriesResponse,
  SubmitRunResponse,
  TENANT_PATTERN,
  ToolsResponse,
  UsageQuery,
  UsageResponse,
  WEBHOOK_HEADERS,
} from '@triad/contracts';
import { z } from 'zod';

// The gateway's HTTP API as one table: each route with the zod schemas its controller parses and answers with. The
// OpenAPI document (openapi-document.ts) is built from it alone; a route added to a controller gets a row here, and
// openapi-document.spec.ts fails while a controller's route has none.

/** The schemas the document names under components (a schema used by a route but not named here is inlined). */
export const NAMED_SCHEMAS = {
  GoalRequest,
  SubmitRunResponse,
  RunRecord,
  RunStatus,
  ListRunsResponse,
  CancelRunRequest,
  CancelRunResponse,
  ApprovalRecord,
  ApprovalsResponse,
  ApprovalResponse,
  ApproveRequest,
  RejectRequest,
  ReplayRunRequest,
  RunEvent,
  UsageResponse,
  ApiError,
  RunFinished,
  RunCountsResponse,
  ToolsResponse,
  ApprovalWebhookPayload,
  MemoryEntry,
  MemoryWrite,
  MemorySearch,
  ListMemoriesResponse,
  CreateMemoryResponse,
  SearchMemoriesResponse,
  DeleteMemoriesResponse,
};

export type ApiTag = 'runs' | 'approvals' | 'usage' | 'tools' | 'memories';
export const API_TAGS: Record<ApiTag, string> = {
  runs: 'Submit goals, read, follow, cancel and delete runs',
  approvals: 'Pending approval gates and the human decisions on them',
  usage: "The tenant's model spend and caps",
  tools: 'The tools the executors offer',
  memories: "The tenant's long-term memory: facts and lessons its runs share, found by meaning",
};

/** An error answer of a route: its description, and headers it carries. */
export type ErrorAnswer = string | { description: string; headers: z.ZodObject };

export interface ApiRoute {
  method: 'get' | 'post' | 'delete';
  /** OpenAPI form: `/v1/runs/{id}`. */
  path: `/${string}`;
  /** Stable: generated SDKs name their methods after it. */
  operationId: string;
  summary: string;
  description?: string;
  tag: ApiTag;
  /** Any one of them lets a key in (admin implies every role). */
  roles: ApiRole[];
  params?: { path?: z.ZodObject; query?: z.ZodObject; header?: z.ZodObject };
  body?: { schema: z.ZodType; required: boolean };
  ok: { status: 200 | 201 | 202 | 204; description: string; schema?: z.ZodType; contentType?: string };
  /** Route-specific error answers; 401 and 403 (and 415 for a POST) are added to every route. */
  errors: Partial<Record<400 | 404 | 409 | 413 | 429 | 503, ErrorAnswer>>;
}

const RunPath = z.object({
  id: RunId.meta({ description: 'The run id (the body runId, or the one the gateway made)' }),
});
const ApprovalPath = RunPath.extend({
  approvalId: z.string().meta({ description: '`<stepId>.<random>`, from the listing or the approval.requested event' }),
});
const MemoryPath = z.object({ id: MemoryId });
const EMBEDDINGS_DOWN = "The embeddings server (OPENAI_BASE_URL's TRIAD_EMBEDDING_MODEL) failed: nothing was stored";
const retryAfter = (description: string) =>
  z.object({ 'Retry-After': z.number().int().nonnegative().meta({ description }) });

/** The settings the document quotes (they vary per deployment; the published file shows the defaults). */
export interface DocumentSettings {
  sseKeepAliveMs: number;
}

/** Every route of the API (v1). */
export function apiRoutes(settings: DocumentSettings): ApiRoute[] {
  const keepAlive = `${settings.sseKeepAliveMs / 1000} s`;
  return [
    {
      method: 'post',
      path: '/v1/runs',
      operationId: 'submitRun',
      summary: 'Submit a goal; answers at once with the run id',
      tag: 'runs',
      roles: ['submit'],
      params: {
        header: z.object({
          'Idempotency-Key': z.string().min(1).max(255).optional().meta({
            description:
              'Without a runId in the body, the same key (within TRIAD_IDEMPOTENCY_TTL) maps to the same run',
          }),
        }),
      },
      body: { schema: GoalRequest, required: true },
      ok: {
        status: 202,
        description: 'Accepted (`created: false` when the run was submitted before)',
        schema: SubmitRunResponse,
      },
      errors: {
        400: 'Malformed JSON or an invalid GoalRequest (issues name each bad field)',
        413: 'Body larger than TRIAD_MAX_BODY_BYTES',
        429: {
          description: 'The tenant is past a daily spend cap (TRIAD_TENANT_LIMITS); the message names it',
          headers: retryAfter('Seconds until the next UTC day'),
        },
        503: {
          description:
            'Intake is paused: Redis memory is above TRIAD_REDIS_MEMORY_HIGH of maxmemory; no run was created',
          headers: retryAfter('Seconds to wait before trying again'),
        },
      },
    },
    {
      method: 'get',
      path: '/v1/runs',
      operationId: 'listRuns',
      summary: 'List runs, newest first',
      tag: 'runs',
      roles: ['read'],
      params: { query: ListRunsQuery },
      ok: {
        status: 200,
        description: 'A page of runs; pass nextCursor as cursor for the next',
        schema: ListRunsResponse,
      },
      errors: { 400: 'Invalid query' },
    },
    {
      method: 'get',
      path: '/v1/run-counts',
      operationId: 'countRuns',
      summary: "How many of the tenant's runs are in each status (at most a few seconds old)",
      tag: 'runs',
      roles: ['read'],
      ok: { status: 200, description: 'Counts by status, and the total', schema: RunCountsResponse },
      errors: {},
    },
    {
      method: 'get',
      path: '/v1/tools',
      operationId: 'listTools',
      summary: 'The tools the executors publish, with the JSON schema of their arguments',
      tag: 'tools',
      roles: ['read', 'submit', 'approve'],
      ok: { status: 200, description: 'The tool catalog', schema: ToolsResponse },
      errors: {},
    },
    {
      method: 'get',
      path: '/v1/runs/{id}',
      operationId: 'getRun',
      summary: 'A run (from the archive, marked `archived`, once its Redis data has expired)',
      tag: 'runs',
      roles: ['read'],
      params: { path: RunPath },
      ok: { status: 200, description: 'The run record', schema: RunRecord },
      errors: { 404: 'Unknown run' },
    },
    {
      method: 'delete',
      path: '/v1/runs/{id}',
      operationId: 'deleteRun',
      summary: 'Delete an ended run at once, from Redis and the archive',
      tag: 'runs',
      roles: ['admin'],
      params: { path: RunPath },
      ok: { status: 204, description: 'Deleted' },
      errors: { 404: 'Unknown run', 409: 'The run is still running: cancel it first' },
    },
    {
      method: 'get',
      path: '/v1/runs/{id}/events',
      operationId: 'streamRunEvents',
      summary: "The run's events as Server-Sent Events",
      description:
        "Each message: `id:` the event id (resume from it), `event:` the event type, `data:` the event as JSON. Ends after the run's " +
        "end and, when its goal has a callbackUrl, the result webhook's outcome. A `: keep-alive` comment is sent every " +
        `TRIAD_SSE_KEEPALIVE_MS (here ${keepAlive}) while nothing happens.`,
      tag: 'runs',
      roles: ['read'],
      params: {
        path: RunPath,
        header: z.object({
          'Last-Event-ID': z.string().optional().meta({ description: 'Resume after this event id' }),
        }),
        query: z.object({
          lastEventId: z
            .string()
            .optional()
            .meta({ description: 'Last-Event-ID, for clients that cannot set headers' }),
        }),
      },
      ok: { status: 200, description: 'The event stream', schema: RunEvent, contentType: 'text/event-stream' },
      errors: {
        400: 'Last-Event-ID is not an event id (<ms>-<seq>, each unsigned 64-bit)',
        404: 'Unknown run',
        429: 'Too many open streams: TRIAD_SSE_MAX_PER_KEY for this key, or TRIAD_SSE_MAX for this gateway',
      },
    },
    {
      method: 'post',
      path: '/v1/runs/{id}/cancel',
      operationId: 'cancelRun',
      summary: 'Cancel a running run (recorded as cancelled by the key name)',
      tag: 'runs',
      roles: ['submit'],
      params: { path: RunPath },
      body: { schema: CancelRunRequest, required: false },
      ok: { status: 200, description: 'Whether this call ended the run', schema: CancelRunResponse },
      errors: { 400: 'Invalid body', 404: 'Unknown run' },
    },
    {
      method: 'post',
      path: '/v1/runs/{id}/fork',
      operationId: 'forkRun',
      summary: "A new run from the run's history before an iteration (never executed again), live from there",
      description:
        "The fork's ledger and events start with the parent's iterations 1..fromIteration-1 (decisions, tool results, " +
        'verdicts): no model or tool is called for them. From fromIteration on it runs live, with `model` if given, ' +
        "under approvals and its budget as usual; only the fork's own spend counts against its budget (iterations count " +
        "from 1). The record and `run.finished` carry `forkOf`; its trace links to the parent's.",
      tag: 'runs',
      roles: ['submit'],
      params: { path: RunPath },
      body: { schema: ForkRunRequest, required: true },
      ok: { status: 202, description: 'The fork was submitted', schema: SubmitRunResponse },
      errors: {
        400: 'Invalid body, or the parent ended before fromIteration',
        404: 'Unknown run (or its data has left Redis)',
        409: 'The parent has not finished the iteration before fromIteration yet',
        429: {
          description: 'The tenant is past a daily spend cap (TRIAD_TENANT_LIMITS)',
          headers: retryAfter('Seconds until the next UTC day'),
        },
        503: { description: 'Intake is paused', headers: retryAfter('Seconds to wait before trying again') },
      },
    },
    {
      method: 'post',
      path: '/v1/runs/{id}/replay',
      operationId: 'replayRun',
      summary: "Play an ended run's recording again: its model replies and tool results, calling no model and no tool",
      description:
        'With `liveModel`, the model is asked again and tool calls matching the recording (same tool, same canonical ' +
        'arguments) get its results; another call runs live under the usual gates, or is refused (`not_recorded`) ' +
        'with `toolsLive: false`. The record and `run.finished` carry `replayOf`.',
      tag: 'runs',
      roles: ['submit'],
      params: { path: RunPath },
      body: { schema: ReplayRunRequest, required: false },
      ok: { status: 202, description: 'The replay was submitted', schema: SubmitRunResponse },
      errors: {
        400: 'Invalid body',
        404: 'Unknown run (or its data has left Redis)',
        409: 'The run is still running',
        429: {
          description: 'With liveModel: the tenant is past a daily spend cap (TRIAD_TENANT_LIMITS)',
          headers: retryAfter('Seconds until the next UTC day'),
        },
        503: { description: 'Intake is paused', headers: retryAfter('Seconds to wait before trying again') },
      },
    },
    {
      method: 'get',
      path: '/v1/runs/{id}/approvals',
      operationId: 'listRunApprovals',
      summary: 'Pending approvals of a run',
      tag: 'approvals',
      roles: ['read', 'approve'],
      params: { path: RunPath },
      ok: { status: 200, description: 'Pending approvals', schema: ApprovalsResponse },
      errors: { 404: 'Unknown run' },
    },
    {
      method: 'get',
      path: '/v1/approvals',
      operationId: 'listApprovals',
      summary: 'Pending approvals of every run of the tenant, soonest deadline first',
      tag: 'approvals',
      roles: ['read', 'approve'],
      ok: { status: 200, description: 'Pending approvals', schema: ApprovalsResponse },
      errors: {},
    },
    decision('approve', 'approveApproval', 'Approve, optionally with edited arguments', ApproveRequest, false),
    decision('reject', 'rejectApproval', 'Reject with a reason', RejectRequest, true),
    {
      method: 'get',
      path: '/v1/usage',
      operationId: 'getUsage',
      summary: "The tenant's model spend, tokens, model calls and runs started per UTC day, today first",
      tag: 'usage',
      roles: ['read'],
      params: { query: UsageQuery },
      ok: { status: 200, description: 'Usage per day, with the caps', schema: UsageResponse },
      errors: { 400: 'Invalid query' },
    },
    ...memoryRoutes(),
  ];
}

function memoryRoutes(): ApiRoute[] {
  return [
    {
      method: 'get',
      path: '/v1/memories',
      operationId: 'listMemories',
      summary: "The tenant's memories, newest first, filtered by kind, tags or source run",
      tag: 'memories',
      roles: ['read'],
      params: { query: ListMemoriesQuery },
      ok: {
        status: 200,
        description: 'A page of memories; pass nextCursor as cursor for the next',
        schema: ListMemoriesResponse,
      },
      errors: { 400: 'Invalid query' },
    },
    {
      method: 'post',
      path: '/v1/memories',
      operationId: 'createMemory',
      summary:
        'Store a fact or lesson (trusted, with no source run); a near-identical one of the same kind is refreshed',
      tag: 'memories',
      roles: ['submit'],
      body: { schema: MemoryWrite, required: true },
      ok: {
        status: 201,
        description: 'Stored (`duplicate: true`: a near-identical entry was refreshed and is returned)',
        schema: CreateMemoryResponse,
      },
      errors: { 400: 'Invalid body (issues name each bad field)', 503: EMBEDDINGS_DOWN },
    },
    {
      method: 'post',
      path: '/v1/memories/search',
      operationId: 'searchMemories',
      summary: "The tenant's memories closest in meaning to a query, closest first",
      tag: 'memories',
      roles: ['read'],
      body: { schema: MemorySearch, required: true },
      ok: { status: 200, description: 'The matches with their cosine similarity', schema: SearchMemoriesResponse },
      errors: { 400: 'Invalid body', 503: 'The embeddings server failed to embed the query' },
    },
    {
      method: 'delete',
      path: '/v1/memories',
      operationId: 'deleteMemoriesOfRun',
      summary: 'Remove every memory a run wrote: the lessons drawn from it and its memorize calls',
      tag: 'memories',
      roles: ['submit'],
      params: { query: DeleteMemoriesQuery },
      ok: { status: 200, description: 'How many were removed', schema: DeleteMemoriesResponse },
      errors: { 400: 'sourceRunId is missing or not a run id' },
    },
    {
      method: 'get',
      path: '/v1/memories/{id}',
      operationId: 'getMemory',
      summary: 'One memory of the tenant',
      tag: 'memories',
      roles: ['read'],
      params: { path: MemoryPath },
      ok: { status: 200, description: 'The memory', schema: MemoryEntry },
      errors: { 404: 'No such memory in this tenant' },
    },
    {
      method: 'delete',
      path: '/v1/memories/{id}',
      operationId: 'deleteMemory',
      summary: 'Remove one memory of the tenant',
      tag: 'memories',
      roles: ['submit'],
      params: { path: MemoryPath },
      ok: { status: 204, description: 'Removed' },
      errors: { 404: 'No such memory in this tenant' },
    },
  ];
}

function decision(
  verb: 'approve' | 'reject',
  operationId: string,
  summary: string,
  body: z.ZodType,
  required: boolean,
): ApiRoute {
  return {
    method: 'post',
    path: `/v1/runs/{id}/approvals/{approvalId}/${verb}`,
    operationId,
    summary,
    tag: 'approvals',
    roles: ['approve'],
    params: { path: ApprovalPath },
    body: { schema: body, required },
    ok: { status: 200, description: 'The decided approval', schema: ApprovalResponse },
    errors: { 400: 'Invalid body', 404: 'Unknown run or approval', 409: 'The approval is not pending any more' },
  };
}

/** The header every route takes: an admin key names the tenant it acts for. */
export const TenantHeader = z.object({
  'X-Triad-Tenant': z
    .string()
    .regex(TENANT_PATTERN)
    .optional()
    .meta({ description: 'An admin key acts for this tenant; other keys may name only their own (else 403)' }),
});

/** A webhook the gateway's services send (OpenAPI `webhooks`): the headers and the JSON body of the POST. */
export interface ApiWebhook {
  /** The `Triad-Event` header's value; the key under `webhooks`. */
  event: string;
  operationId: string;
  summary: string;
  description: string;
  headers: z.ZodObject;
  body: z.ZodType;
}

const signedHeaders = (event: string, idempotencyKey: string) =>
  z.object({
    [WEBHOOK_HEADERS.event]: z.literal(event),
    [WEBHOOK_HEADERS.timestamp]: z
      .string()
      .regex(/^[0-9]+$/)
      .meta({ description: 'Unix seconds of the delivery' }),
    [WEBHOOK_HEADERS.signature]: z
      .string()
      .meta({ description: '`v1=` and 64 hex digits (several, comma-separated, while secrets rotate)' }),
    [WEBHOOK_HEADERS.idempotencyKey]: z.string().meta({ description: idempotencyKey }),
  });

const VERIFY =
  'Verify before parsing: `Triad-Signature` is `v1=<hex HMAC-SHA256 of "<Triad-Timestamp>.<raw body>" with ' +
  'TRIAD_WEBHOOK_SECRET>` (verifyWebhook in @triad/contracts). Anything but a 2xx is retried with backoff ' +
  '(TRIAD_WEBHOOK_ATTEMPTS); deduplicate on Idempotency-Key.';

/** Every webhook Triad sends. */
export const API_WEBHOOKS: ApiWebhook[] = [
  {
    event: 'run.finished',
    operationId: 'runFinishedWebhook',
    summary: "A run ended: its result, POSTed to the goal's callbackUrl",
    description: VERIFY,
    headers: signedHeaders('run.finished', 'The run id (`<tenant>~<runId>` outside the default tenant)'),
    body: RunFinished,
  },
  ...(['approval.requested', 'approval.decided'] as const).map((event) => ({
    event,
    operationId: event === 'approval.requested' ? 'approvalRequestedWebhook' : 'approvalDecidedWebhook',
    summary:
      event === 'approval.requested'
        ? 'A gate opened: a tool call waits for a human decision, POSTed to TRIAD_APPROVAL_WEBHOOK_URL'
        : 'A gate was decided (approved, rejected or expired), POSTed to TRIAD_APPROVAL_WEBHOOK_URL',
    description: `${VERIFY} Pushes of one gate may arrive out of order after a retry: key on approvalId.`,
    headers: signedHeaders(event, '`approval-<runId>-<stepId>-requested|decided`, the same for every retry'),
    body: ApprovalWebhookPayload,
  })),
];
