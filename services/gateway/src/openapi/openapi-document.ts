import { ApiError } from '@triad/contracts';
import { loadConfig } from '@triad/shared';
import type { z } from 'zod';
import {
  createDocument,
  type oas31,
  type ZodOpenApiOperationObject,
  type ZodOpenApiPathsObject,
  type ZodOpenApiResponseObject,
  type ZodOpenApiResponsesObject,
} from 'zod-openapi';
import {
  API_TAGS,
  API_WEBHOOKS,
  type ApiRoute,
  type ApiWebhook,
  apiRoutes,
  type DocumentSettings,
  type ErrorAnswer,
  NAMED_SCHEMAS,
  TenantHeader,
} from './api-routes.js';

/** The settings the document quotes, at their defaults (an empty environment): the published file shows these. */
export function defaultDocumentSettings(): DocumentSettings {
  return { sseKeepAliveMs: loadConfig({}).gateway.sseKeepAliveMs };
}

const json = (schema: z.ZodType, type = 'application/json') => ({ content: { [type]: { schema } } });
const error = (answer: ErrorAnswer): ZodOpenApiResponseObject =>
  typeof answer === 'string'
    ? { description: answer, ...json(ApiError) }
    : { description: answer.description, headers: answer.headers, ...json(ApiError) };

/** The answers of a route: its success, its own errors, and the errors every route (and every change) may give. */
function responses(route: ApiRoute): ZodOpenApiResponsesObject {
  const { ok } = route;
  const answers: ZodOpenApiResponsesObject = {
    [ok.status]: ok.schema
      ? { description: ok.description, ...json(ok.schema, ok.contentType) }
      : { description: ok.description },
  };
  for (const [status, answer] of Object.entries(route.errors)) answers[status as '400'] = error(answer);
  answers['401'] = error('Missing or unknown API key');
  answers['403'] = error(
    route.method === 'post'
      ? `The key lacks the role (${route.roles.join(' or ')}), names another tenant, or a browser sent the request from another site (Origin, Sec-Fetch-Site)`
      : `The key lacks the role (${route.roles.join(' or ')}) or names another tenant in X-Triad-Tenant`,
  );
  if (route.method === 'post') {
    answers['415'] = error('Not application/json (with keys, a request without a body may omit the type)');
  }
  return answers;
}

function operation(route: ApiRoute): ZodOpenApiOperationObject {
  const header = route.params?.header ? route.params.header.extend(TenantHeader.shape) : TenantHeader;
  return {
    operationId: route.operationId,
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    tags: [route.tag],
    'x-required-roles': route.roles,
    requestParams: { ...route.params, header },
    ...(route.body ? { requestBody: { required: route.body.required, ...json(route.body.schema) } } : {}),
    responses: responses(route),
  };
}

function webhook(hook: ApiWebhook): ZodOpenApiOperationObject {
  return {
    operationId: hook.operationId,
    summary: hook.summary,
    description: hook.description,
    security: [],
    requestParams: { header: hook.headers },
    requestBody: { required: true, ...json(hook.body) },
    responses: {
      '2XX': { description: 'Delivered: not sent again' },
      default: { description: 'Not delivered: retried with backoff, then recorded as webhook.failed' },
    },
  };
}

/** Options of the served document; the published file uses the defaults. */
export interface OpenApiOptions extends Partial<DocumentSettings> {
  /** `servers`: where the API is; default a gateway on this machine at the default port. */
  serverUrl?: string;
}

/** The OpenAPI 3.1 document of the gateway's HTTP API (v1), built from the route table and its zod schemas. */
export function buildOpenApiDocument(opts: OpenApiOptions = {}): oas31.OpenAPIObject {
  const settings = { ...defaultDocumentSettings(), ...opts };
  const paths: ZodOpenApiPathsObject = {};
  for (const route of apiRoutes(settings)) {
    paths[route.path] = { ...paths[route.path], [route.method]: operation(route) };
  }
  const document = createDocument({
    openapi: '3.1.0',
    info: {
      title: 'Triad gateway',
      version: '1.0.0',
      summary: 'Submit goals, follow runs, cancel them, and decide approval gates',
      description:
        'Submit goals, follow runs (Server-Sent Events), cancel them, and decide approval gates. Authenticate with ' +
        '`Authorization: Bearer <key>` or `X-API-Key` (TRIAD_API_KEYS); each operation names the roles that may call it ' +
        "in x-required-roles. A key belongs to a tenant and sees only that tenant's runs and approvals (another tenant's " +
        'are 404); an admin key may act for another tenant by naming it in `X-Triad-Tenant`. Every error answer is an ApiError.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [
      {
        url: opts.serverUrl ?? 'http://127.0.0.1:8080',
        description: opts.serverUrl
          ? 'This gateway'
          : "A gateway on this machine (TRIAD_GATEWAY_PORT); use your deployment's URL",
      },
    ],
    tags: Object.entries(API_TAGS).map(([name, description]) => ({ name, description })),
    security: [{ bearer: [] }, { apiKey: [] }],
    components: {
      schemas: NAMED_SCHEMAS,
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'An API key of TRIAD_API_KEYS' },
        apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'An API key of TRIAD_API_KEYS' },
      },
    },
    paths,
    webhooks: Object.fromEntries(API_WEBHOOKS.map((h) => [h.event, { post: webhook(h) }])),
  }) as oas31.OpenAPIObject;
  return outputOnlyUnderOwnName(document);
}

/**
 * A named schema whose input and output differ (defaults, coercions) gets two components, `X` and `XOutput`. One
 * that only answers use (a run record) keeps its own name for its output form instead of an unused input form.
 */
function outputOnlyUnderOwnName(document: oas31.OpenAPIObject): oas31.OpenAPIObject {
  const schemas = document.components?.schemas ?? {};
  let text = JSON.stringify(document);
  for (const name of Object.keys(NAMED_SCHEMAS)) {
    const output = `${name}Output`;
    if (!schemas[output] || text.includes(`"#/components/schemas/${name}"`)) continue;
    text = text.replaceAll(`"#/components/schemas/${output}"`, `"#/components/schemas/${name}"`);
    const parsed = JSON.parse(text) as oas31.OpenAPIObject;
    const named = parsed.components?.schemas as Record<string, unknown>;
    named[name] = named[output];
    delete named[output];
    text = JSON.stringify(parsed);
  }
  return JSON.parse(text) as oas31.OpenAPIObject;
}
