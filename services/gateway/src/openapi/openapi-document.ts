import type { OpenAPIObject } from '@nestjs/swagger';
import {
  ApiError,
  ApprovalResponse,
  ApprovalsResponse,
  ApproveRequest,
  CancelRunRequest,
  CancelRunResponse,
  GoalRequest,
  ListRunsResponse,
  RejectRequest,
  RunEvent,
  RunRecord,
  RunStatus,
  SubmitRunResponse,
  UsageResponse,
} from '@triad/shared';
import { z } from 'zod';

// The document is built from the same zod schemas the gateway parses with, so it cannot drift from the code.
const requests = { GoalRequest, CancelRunRequest, ApproveRequest, RejectRequest };
const responses = {
  SubmitRunResponse,
  RunRecord,
  ListRunsResponse,
  CancelRunResponse,
  ApprovalsResponse,
  ApprovalResponse,
  RunEvent,
  UsageResponse,
  ApiError,
};

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io, target: 'draft-2020-12', unrepresentable: 'any' });
  return rest;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (name: string) => ({ content: { 'application/json': { schema: ref(name) } } });
const error = (description: string) => ({ description, ...json('ApiError') });
const ok = (description: string, schema: string) => ({ description, ...json(schema) });
const ERRORS = { 401: error('Missing or unknown API key'), 403: error('The key lacks the role') };
/** Of every request that changes something: refused when a browser sends it from another site, or not as JSON. */
const CHANGE_ERRORS = {
  ...ERRORS,
  403: error('The key lacks the role, or a cross-site request (Origin, Sec-Fetch-Site)'),
  415: error('Not application/json (with keys, a request without a body may omit the type)'),
};
const runId = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
const approvalId = { name: 'approvalId', in: 'path', required: true, schema: { type: 'string' } };
const role = (r: string) => ({ 'x-required-role': r });

/** The OpenAPI 3.1 document of the gateway's HTTP API (v1). */
export function buildOpenApiDocument(): OpenAPIObject {
  const schemas = {
    ...Object.fromEntries(Object.entries(requests).map(([k, s]) => [k, jsonSchema(s, 'input')])),
    ...Object.fromEntries(Object.entries(responses).map(([k, s]) => [k, jsonSchema(s, 'output')])),
  };
  const decision = (body: string, summary: string) => ({
    post: {
      summary,
      tags: ['approvals'],
      ...role('approve'),
      parameters: [runId, approvalId],
      requestBody: { required: body === 'RejectRequest', ...json(body) },
      responses: {
        200: ok('The decided approval', 'ApprovalResponse'),
        400: error('Invalid body'),
        404: error('Unknown run or approval'),
        409: error('The approval is not pending any more'),
        ...CHANGE_ERRORS,
      },
    },
  });
  return {
    openapi: '3.1.0',
    info: {
      title: 'Triad gateway',
      version: '1.0.0',
      description:
        'Submit goals, follow runs (Server-Sent Events), cancel them, and decide approval gates. ' +
        'Authenticate with `Authorization: Bearer <key>` or `X-API-Key`; each operation names its role in x-required-role. ' +
        "A key belongs to a tenant and sees only that tenant's runs and approvals (another tenant's are 404); an admin " +
        'key may act for any tenant by naming it in `X-Triad-Tenant`.',
    },
    components: {
      schemas,
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer' },
        apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
      },
    },
    security: [{ bearer: [] }, { apiKey: [] }],
    paths: {
      '/v1/runs': {
        post: {
          summary: 'Submit a goal; answers at once with the run id',
          tags: ['runs'],
          ...role('submit'),
          parameters: [
            {
              name: 'Idempotency-Key',
              in: 'header',
              required: false,
              schema: { type: 'string', maxLength: 255 },
              description: 'Without a runId in the body, the same key (within 24 h) maps to the same run',
            },
          ],
          requestBody: { required: true, ...json('GoalRequest') },
          responses: {
            202: ok('Accepted (`created: false` when the run was submitted before)', 'SubmitRunResponse'),
            400: error('Malformed JSON or an invalid GoalRequest (issues name each bad field)'),
            413: error('Body larger than TRIAD_MAX_BODY_BYTES'),
            429: {
              ...error('The tenant is past a daily spend cap (TRIAD_TENANT_LIMITS); the message names it'),
              headers: {
                'Retry-After': { description: 'Seconds until the next UTC day', schema: { type: 'integer' } },
              },
            },
            503: {
              ...error(
                'Intake is paused: Redis memory is above TRIAD_REDIS_MEMORY_HIGH of maxmemory; no run was created',
              ),
              headers: {
                'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'integer' } },
              },
            },
            ...CHANGE_ERRORS,
          },
        },
        get: {
          summary: 'List runs, newest first',
          tags: ['runs'],
          ...role('read'),
          parameters: [
            { name: 'status', in: 'query', required: false, schema: jsonSchema(RunStatus, 'output') },
            {
              name: 'limit',
              in: 'query',
              required: false,
              schema: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
            },
            {
              name: 'cursor',
              in: 'query',
              required: false,
              schema: { type: 'string' },
              description: 'nextCursor of the previous page',
            },
          ],
          responses: { 200: ok('A page of runs', 'ListRunsResponse'), 400: error('Invalid query'), ...ERRORS },
        },
      },
      '/v1/runs/{id}': {
        get: {
          summary: 'A run (from the archive, marked `archived`, once its Redis data has expired)',
          tags: ['runs'],
          ...role('read'),
          parameters: [runId],
          responses: { 200: ok('The run record', 'RunRecord'), 404: error('Unknown run'), ...ERRORS },
        },
        delete: {
          summary: 'Delete an ended run at once, from Redis and the archive',
          tags: ['runs'],
          ...role('admin'),
          parameters: [runId],
          responses: {
            204: { description: 'Deleted' },
            404: error('Unknown run'),
            409: error('The run is still running: cancel it first'),
            ...ERRORS,
          },
        },
      },
      '/v1/runs/{id}/events': {
        get: {
          summary: "The run's events as Server-Sent Events; ends after the run's end and its result webhook's outcome",
          tags: ['runs'],
          ...role('read'),
          parameters: [
            runId,
            { name: 'Last-Event-ID', in: 'header', required: false, schema: { type: 'string' } },
            { name: 'lastEventId', in: 'query', required: false, schema: { type: 'string' } },
          ],
          responses: {
            200: {
              description:
                '`id:` the event id, `event:` its type, `data:` a RunEvent; `: keep-alive` comments every 15 s',
              content: { 'text/event-stream': { schema: ref('RunEvent') } },
            },
            400: error('Last-Event-ID is not an event id (<ms>-<seq>, each unsigned 64-bit)'),
            404: error('Unknown run'),
            429: error('Too many open streams: TRIAD_SSE_MAX_PER_KEY for this key, or TRIAD_SSE_MAX for this gateway'),
            ...ERRORS,
          },
        },
      },
      '/v1/runs/{id}/cancel': {
        post: {
          summary: 'Cancel a running run',
          tags: ['runs'],
          ...role('submit'),
          parameters: [runId],
          requestBody: { required: false, ...json('CancelRunRequest') },
          responses: {
            200: ok('Whether this call ended the run', 'CancelRunResponse'),
            404: error('Unknown run'),
            ...CHANGE_ERRORS,
          },
        },
      },
      '/v1/runs/{id}/approvals': {
        get: {
          summary: 'Pending approvals of a run',
          tags: ['approvals'],
          ...role('read or approve'),
          parameters: [runId],
          responses: { 200: ok('Pending approvals', 'ApprovalsResponse'), 404: error('Unknown run'), ...ERRORS },
        },
      },
      '/v1/approvals': {
        get: {
          summary: 'Pending approvals of every run, soonest deadline first',
          tags: ['approvals'],
          ...role('read or approve'),
          responses: { 200: ok('Pending approvals', 'ApprovalsResponse'), ...ERRORS },
        },
      },
      '/v1/usage': {
        get: {
          summary: "The tenant's model spend, tokens, model calls and runs started per UTC day, today first",
          tags: ['usage'],
          ...role('read'),
          parameters: [
            {
              name: 'days',
              in: 'query',
              required: false,
              schema: { type: 'integer', minimum: 1, maximum: 7, default: 7 },
            },
          ],
          responses: { 200: ok('Usage per day', 'UsageResponse'), 400: error('Invalid query'), ...ERRORS },
        },
      },
      '/v1/runs/{id}/approvals/{approvalId}/approve': decision(
        'ApproveRequest',
        'Approve, optionally with edited arguments',
      ),
      '/v1/runs/{id}/approvals/{approvalId}/reject': decision('RejectRequest', 'Reject with a reason'),
    },
  } as OpenAPIObject;
}
