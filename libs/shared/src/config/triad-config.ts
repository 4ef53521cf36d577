import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { ApiRole, DEFAULT_TENANT, TENANT_PATTERN, TenantId, ToolRisk } from '@triad/contracts';
import { z } from 'zod';
import { registerCredentials } from '../errors/scrub-credentials.js';
import { ConfigError } from '../errors/triad-error.js';

const int = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);
const optionalInt = (min: number) => z.preprocess(blankAsUndefined, z.coerce.number().int().min(min).optional());
const blankAsUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const optionalString = z.preprocess(blankAsUndefined, z.string().optional());
const parseJson = (v: unknown) => {
  if (typeof v !== 'string' || !v.trim()) return undefined;
  try {
    return JSON.parse(v);
  } catch {
    return v; // left as a string, so the schema reports it as not JSON
  }
};

/** An MCP server whose tools an executor offers: a command speaking stdio, or a Streamable HTTP URL. */
export const McpServerConfig = z.union([
  z.strictObject({
    name: z.string().regex(/^[a-z][a-z0-9_]{0,31}$/),
    command: z.string().min(1),
    args: z.array(z.string()).default([]),
    env: z.record(z.string(), z.string()).optional(),
    cwd: z.string().optional(),
  }),
  z.strictObject({
    name: z.string().regex(/^[a-z][a-z0-9_]{0,31}$/),
    url: z.url({ protocol: /^https?$/ }),
    headers: z.record(z.string(), z.string()).optional(),
  }),
]);
export type McpServerConfig = z.infer<typeof McpServerConfig>;

/** USD per million tokens, by model name: what `maxCostUsd` budgets are counted in. */
export const ModelPrices = z.record(
  z.string().min(1),
  z.strictObject({ inputPerMTok: z.number().nonnegative(), outputPerMTok: z.number().nonnegative() }),
);
export type ModelPrices = z.infer<typeof ModelPrices>;

// --- gateway and webhooks ---------------------------------------------------------------------------------------

/** An API key of the HTTP gateway: who (name, recorded as the actor), the secret, what it may do, for which tenant. */
export interface ApiKeyConfig {
  name: string;
  key: string;
  roles: ApiRole[];
  /** The tenant whose runs the key sees and starts (`default` when the entry names none). */
  tenant: string;
}

/** The non-empty, trimmed items of a comma-separated list. */
const csv = (v: string) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

// An allow-list entry (HTTP tools, result webhooks) as the SSRF guard reads it: a host name, an address ([::1] too) or a CIDR.
const AllowedHost = z.string().refine((entry) => {
  const bare = entry.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
  const [network = '', bits, ...rest] = bare.split('/');
  const family = isIP(network);
  if (bits === undefined) return family > 0 || z.hostname().safeParse(network).success;
  return !rest.length && family > 0 && /^\d+$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}, 'each entry must be a host name, an IP address or a CIDR (e.g. 10.1.0.0/16)');

// `name:key:roles[:tenant]` entries, comma-separated, roles joined with '+'; the key itself may contain ':'. An entry
// whose second-to-last part is a list of roles names a tenant in its last part (so a key with ':' in it must name one).
const isRoles = (part: string | undefined) => part?.split('+').every((r) => ApiRole.safeParse(r).success) === true;
const ApiKeys = z.preprocess(
  (v) =>
    typeof v === 'string'
      ? csv(v).map((entry) => {
          const parts = entry.split(':');
          const tenanted = parts.length >= 4 && isRoles(parts.at(-2)) && TENANT_PATTERN.test(parts.at(-1) ?? '');
          const roles = tenanted ? parts.at(-2) : parts.at(-1);
          return {
            name: parts[0],
            key: parts.slice(1, tenanted ? -2 : -1).join(':'),
            roles: (roles ?? '').split('+'),
            tenant: tenanted ? parts.at(-1) : DEFAULT_TENANT,
          };
        })
      : v,
  z
    .array(
      z.object({
        name: z.string().regex(/^[A-Za-z0-9_.@-]{1,64}$/),
        key: z.string().min(1),
        roles: z.array(ApiRole).min(1),
        tenant: TenantId.default(DEFAULT_TENANT),
      }),
    )
    .refine((keys) => new Set(keys.map((k) => k.name)).size === keys.length, 'key names must be unique')
    .default([]),
);

/** What one tenant may use across all its runs (TRIAD_TENANT_LIMITS, by tenant id; `*` for every other tenant). */
export const TenantLimits = z.strictObject({
  maxCostUsdPerDay: z.number().positive().optional(),
  maxTokensPerDay: z.number().int().positive().optional(),
  maxRunsInFlight: z.number().int().positive().optional(),
  /** Share of the fleet when tenants compete, relative to the others' (default 1). */
  weight: z.number().positive().default(1),
  /** Long-term memory of the tenant: recall and learn can be turned off (a goal cannot turn them back on). */
  memory: z
    .strictObject({
      recall: z.boolean().default(true),
      learn: z.boolean().default(true),
      /** Entries the tenant keeps at most (default TRIAD_MEMORY_MAX_ENTRIES); the oldest go first. */
      maxEntries: z.number().int().positive().optional(),
    })
    .optional(),
});
export type TenantLimits = z.infer<typeof TenantLimits>;
export const TenantLimitsByTenant = z
  .record(z.string(), TenantLimits)
  .refine((m) => Object.keys(m).every((t) => t === '*' || TENANT_PATTERN.test(t)), 'keys must be tenant ids or "*"');
export type TenantLimitsByTenant = z.infer<typeof TenantLimitsByTenant>;

/** The limits of one tenant: its own entry, else the `*` entry, else none (weight 1). */
export function tenantLimits(config: Pick<TriadConfig, 'tenantLimits'>, tenant: string): TenantLimits {
  return config.tenantLimits[tenant] ?? config.tenantLimits['*'] ?? { weight: 1 };
}

const GatewayEnv = {
  TRIAD_API_KEYS: ApiKeys,
  // Checked here: a host the gateway cannot listen on would otherwise fail at listen, without naming the variable.
  TRIAD_GATEWAY_HOST: z.preprocess(
    blankAsUndefined,
    z.union([z.ipv4(), z.ipv6(), z.hostname()], 'must be an IP address or a host name').default('0.0.0.0'),
  ),
  TRIAD_GATEWAY_PORT: z.coerce.number().int().min(0).max(65_535).default(8080),
  /** Base URL of a Jaeger UI: the console links a run to its trace there. */
  TRIAD_JAEGER_URL: z.preprocess(blankAsUndefined, z.url({ protocol: /^https?$/ }).optional()),
  TRIAD_MAX_BODY_BYTES: int(256 * 1024, 1),
  TRIAD_SSE_KEEPALIVE_MS: int(15_000, 100),
  TRIAD_SSE_MAX: int(1_000, 1),
  TRIAD_SSE_MAX_PER_KEY: int(100, 1),
  TRIAD_WEBHOOK_SECRET: optionalString,
  TRIAD_WEBHOOK_ATTEMPTS: int(8, 1),
  TRIAD_WEBHOOK_BACKOFF_MS: int(1_000, 1),
  TRIAD_WEBHOOK_TIMEOUT_MS: int(10_000, 1),
  // Internal hosts result webhooks may reach; separate from TRIAD_HTTP_ALLOW_HOSTS, which the model's tools use.
  TRIAD_WEBHOOK_ALLOW_HOSTS: z.preprocess(
    (v) => (typeof v === 'string' ? csv(v) : v),
    z.array(AllowedHost).default([]),
  ),
};

// --- end of gateway and webhooks --------------------------------------------------------------------------------

// --- run data: retention and archive ---------------------------------------------------------------------------

const DURATION_UNITS_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
/** A duration as `<number><unit>` (ms, s, m, h, d; e.g. `7d`, `90s`) or plain seconds, in milliseconds. */
const duration = (def: string) =>
  z.preprocess(blankAsUndefined, z.string().default(def)).transform((v, ctx) => {
    const m = /^(\d+)(ms|s|m|h|d)?$/.exec(v.trim());
    if (!m) {
      ctx.addIssue({ code: 'custom', message: 'must be a duration such as 7d, 12h, 30m, 90s or 500ms' });
      return z.NEVER;
    }
    const ms = Number(m[1]) * DURATION_UNITS_MS[(m[2] ?? 's') as keyof typeof DURATION_UNITS_MS];
    if (ms < 1) ctx.addIssue({ code: 'custom', message: 'must be longer than 0' });
    return ms;
  });

const RunDataEnv = {
  TRIAD_RUN_RETENTION: duration('7d'),
  TRIAD_IDEMPOTENCY_TTL: duration('24h'),
  TRIAD_ARCHIVE_URL: z.preprocess(blankAsUndefined, z.url({ protocol: /^postgres(ql)?$/ }).optional()),
};

// --- end of run data ---------------------------------------------------------------------------------------------

// --- telemetry --------------------------------------------------------------------------------------------------

const bool = z.preprocess(
  (v) => (typeof v === 'string' ? v.trim().toLowerCase() : v),
  z.enum(['', 'true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1'),
);

// The standard OTEL_* variables the SDK reads itself, checked here so a typo stops the service with a clear message.
const MemoryEnv = {
  // The OpenAI-compatible server's embeddings model (OPENAI_BASE_URL, OPENAI_API_KEY), for semantic memory.
  TRIAD_EMBEDDING_MODEL: z.preprocess(blankAsUndefined, z.string().min(1).max(200).default('text-embedding-3-small')),
  // Sent as `dimensions`; 0: not sent, the model's own size is used.
  TRIAD_EMBEDDING_DIMENSIONS: int(256, 0),
  TRIAD_MEMORY_RETENTION: duration('90d'),
  TRIAD_MEMORY_MAX_ENTRIES: int(100_000, 1),
};

const TelemetryEnv = {
  OTEL_EXPORTER_OTLP_ENDPOINT: z.preprocess(blankAsUndefined, z.url({ protocol: /^https?$/ }).optional()),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.preprocess(blankAsUndefined, z.url({ protocol: /^https?$/ }).optional()),
  OTEL_EXPORTER_OTLP_PROTOCOL: z.preprocess(
    blankAsUndefined,
    z.enum(['http/json', 'http/protobuf']).default('http/protobuf'),
  ),
  OTEL_SERVICE_NAME: optionalString,
  TRIAD_TRACE_CONTENT: bool.default(false),
  TRIAD_METRICS_PORT: z.coerce.number().int().min(0).max(65_535).default(0),
  // Every interface by default, so that a Prometheus on another host (or container) can scrape; see the README.
  TRIAD_METRICS_HOST: z.preprocess(
    blankAsUndefined,
    z.union([z.ipv4(), z.ipv6(), z.hostname()], 'must be an IP address or a host name').default('0.0.0.0'),
  ),
  TRIAD_LOG_LEVEL: z.preprocess(
    blankAsUndefined,
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ),
};

/** Traces, metrics and logs of one service process. */
export interface TelemetryConfig {
  /** OTLP/HTTP collector (e.g. Jaeger at http://jaeger:4318); with none, nothing is exported and nothing dialled. */
  otlpEndpoint: string | undefined;
  otlpProtocol: 'http/json' | 'http/protobuf';
  /** OTEL_SERVICE_NAME, else `triad-<role>`. */
  serviceName: string | undefined;
  /** Message content, tool arguments and results in spans: off unless TRIAD_TRACE_CONTENT=true. */
  traceContent: boolean;
  /** Prometheus text on this port (0: off). */
  metricsPort: number;
  /** The address the Prometheus endpoint listens on (0.0.0.0: every interface). */
  metricsHost: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

/** Parses only the telemetry variables: the telemetry preload runs before the rest of the configuration is read. */
export function loadTelemetryConfig(env: NodeJS.ProcessEnv = process.env): TelemetryConfig {
  const parsed = z.object(TelemetryEnv).safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  return {
    otlpEndpoint: e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? e.OTEL_EXPORTER_OTLP_ENDPOINT,
    otlpProtocol: e.OTEL_EXPORTER_OTLP_PROTOCOL,
    serviceName: e.OTEL_SERVICE_NAME,
    traceContent: e.TRIAD_TRACE_CONTENT,
    metricsPort: e.TRIAD_METRICS_PORT,
    metricsHost: e.TRIAD_METRICS_HOST,
    logLevel: e.TRIAD_LOG_LEVEL,
  };
}

// --- end of telemetry -------------------------------------------------------------------------------------------

/** TRIAD_PREFIX: a name, or a name in braces (a hash tag, which a Redis Cluster needs). */
const PREFIX_PATTERN = /^(?:[A-Za-z0-9_-]{1,64}|\{[A-Za-z0-9_-]{1,62}\})$/;

/** A seed node of TRIAD_REDIS_CLUSTER: `host:port` (an IPv6 address in brackets). */
const ClusterNode = z.string().transform((entry, ctx) => {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+):(\d{1,5})$/.exec(entry);
  const port = Number(m?.[2]);
  if (!m || port < 1 || port > 65_535) {
    ctx.addIssue({ code: 'custom', message: `"${entry}" is not host:port (e.g. redis-0:6379)` });
    return z.NEVER;
  }
  return { host: (m[1] as string).replace(/^\[(.*)\]$/, '$1'), port };
});

const EnvSchema = z.object({
  ...TelemetryEnv,
  ...GatewayEnv,
  ...RunDataEnv,
  ...MemoryEnv,
  REDIS_URL: z.preprocess(blankAsUndefined, z.url({ protocol: /^rediss?$/ }).default('redis://127.0.0.1:6379')),
  // A fraction of Redis's maxmemory; 0 turns the capacity guard off (see store/redis-capacity.ts).
  TRIAD_REDIS_MEMORY_HIGH: z.preprocess(
    blankAsUndefined,
    z.coerce
      .number()
      .refine((v) => v === 0 || (v > 0 && v < 1), 'must be a fraction of maxmemory above 0 and below 1, or 0 (off)')
      .default(0.9),
  ),
  // A name, or a name in braces: a Redis Cluster hash tag (see store/triad-keys.ts for where each key then hashes).
  TRIAD_PREFIX: z.preprocess(
    blankAsUndefined,
    z
      .string()
      .regex(
        PREFIX_PATTERN,
        'must be a name of letters, digits, _ and - (at most 64), or such a name in braces: {triad}',
      )
      .default('triad'),
  ),
  TRIAD_REDIS_CLUSTER: z.preprocess(
    (v) => (typeof v === 'string' ? (v.trim() ? csv(v) : undefined) : v),
    z.array(ClusterNode).min(1).optional(),
  ),
  OPENAI_API_KEY: optionalString,
  OPENAI_BASE_URL: z.preprocess(blankAsUndefined, z.url().optional()),
  TRIAD_MODEL: z.preprocess(blankAsUndefined, z.string().default('gpt-4.1-mini')),
  TRIAD_PLANNER_MODEL: optionalString,
  TRIAD_JUDGE_MODEL: optionalString,
  // Models a goal may name in `model` (a fork's, a live replay's), besides the planner's own.
  TRIAD_ALLOWED_MODELS: z.preprocess(
    (v) => (typeof v === 'string' ? csv(v) : v),
    z.array(z.string().min(1).max(200)).default([]),
  ),
  TRIAD_JUDGE_POLICY: z.preprocess(blankAsUndefined, z.enum(['checks', 'answers', 'always']).default('answers')),
  TRIAD_MODEL_TIMEOUT_MS: int(60_000, 1),
  TRIAD_MODEL_MAX_RETRIES: int(2),
  TRIAD_MODEL_PRICES: z.preprocess(parseJson, ModelPrices.default({})),
  TRIAD_MODEL_MAX_OUTPUT_TOKENS: int(4096, 1),
  TRIAD_TENANT_LIMITS: z.preprocess(parseJson, TenantLimitsByTenant.default({})),
  TRIAD_MODEL_RATE_LIMIT: z.preprocess(
    blankAsUndefined,
    z
      .string()
      .regex(/^\d+\/\d+$/, 'must be <max calls>/<per milliseconds>, e.g. 60/1000')
      .transform((v) => {
        const [max, durationMs] = v.split('/').map(Number);
        return { max: max as number, durationMs: durationMs as number };
      })
      .refine((l) => l.max >= 1 && l.durationMs >= 1, 'both numbers must be at least 1')
      .optional(),
  ),
  TRIAD_HEALTH_PORT: z.coerce.number().int().min(0).max(65_535).default(0),
  TRIAD_WORKSPACE: z.preprocess(blankAsUndefined, z.string().default('examples/workspace')),
  TRIAD_EXECUTOR_ID: optionalString,
  // Unset: derived from the heap (TRIAD_JOB_HEAP_KB), see queue/concurrency-policy.ts.
  TRIAD_EXECUTOR_CONCURRENCY: optionalInt(1),
  TRIAD_PLANNER_CONCURRENCY: optionalInt(1),
  TRIAD_JUDGE_CONCURRENCY: optionalInt(1),
  TRIAD_JOB_HEAP_KB: int(1024, 1),
  TRIAD_BACKPRESSURE_LOOP_DELAY_MS: int(500, 1),
  TRIAD_BACKPRESSURE_REDIS_MS: int(500, 1),
  TRIAD_TOOL_TIMEOUT_MS: int(30_000, 1),
  TRIAD_JOB_ATTEMPTS: int(5, 1),
  TRIAD_MAX_CALLS_PER_REPLY: int(32, 1),
  TRIAD_APPROVAL_RISKS: z.preprocess(
    (v) => (typeof v === 'string' ? csv(v).filter((s) => s !== 'none') : v),
    z.array(ToolRisk).default(['irreversible']),
  ),
  TRIAD_APPROVAL_TIMEOUT_MS: int(3_600_000, 1_000),
  TRIAD_HTTP_ALLOW_HOSTS: z.preprocess((v) => (typeof v === 'string' ? csv(v) : v), z.array(AllowedHost).default([])),
  TRIAD_HTTP_TIMEOUT_MS: int(10_000, 1),
  TRIAD_HTTP_MAX_BYTES: int(1024 * 1024, 1),
  TRIAD_WEBHOOK_URL: z.preprocess(blankAsUndefined, z.url({ protocol: /^https?$/ }).optional()),
  TRIAD_APPROVAL_WEBHOOK_URL: z.preprocess(
    blankAsUndefined,
    z
      .url({ protocol: /^https?$/ })
      .refine(
        (u) => !URL.parse(u)?.username && !URL.parse(u)?.password,
        'must not contain credentials (user:password@)',
      )
      .optional(),
  ),
  // The web console as approvers reach it (links in approval pushes); default: the gateway's own, on localhost.
  TRIAD_CONSOLE_URL: z.preprocess(blankAsUndefined, z.url({ protocol: /^https?$/ }).optional()),
  TRIAD_MCP_SERVERS: z.preprocess(parseJson, z.array(McpServerConfig).default([])),
});

/** Every environment variable the configuration reads (the config spec holds a bad value for each). */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(EnvSchema.shape);

/** Triad's configuration, read from the environment once at boot. */
export interface TriadConfig {
  /** The Redis; on a cluster, only its scheme (rediss: TLS), user name and password are used. */
  redisUrl: string;
  /**
   * Intake pauses while Redis's used memory is at or above this fraction of its maxmemory, and resumes below 95% of
   * it; 0: never (nor when Redis has no maxmemory).
   */
  redisMemoryHigh: number;
  /** Seed nodes of a Redis Cluster (TRIAD_REDIS_CLUSTER); undefined on a single Redis. */
  redisCluster: { host: string; port: number }[] | undefined;
  /** BullMQ's key prefix; on a cluster it carries a hash tag (`{triad}`), see store/triad-keys.ts. */
  prefix: string;
  model: {
    apiKey: string | undefined;
    baseUrl: string | undefined;
    plannerModel: string;
    judgeModel: string;
    timeoutMs: number;
    maxRetries: number;
    /** Prices of the models, for run cost; a model without a price costs nothing in `usage.costUsd`. */
    prices: ModelPrices;
    /**
     * The most output tokens a model call under a tenant spend cap may produce (sent as max_completion_tokens); its
     * reservation counts this many. Calls of tenants without a cap send no limit.
     */
    maxOutputTokens: number;
    /** Model-calling jobs (plan, judge) started per time window, per queue, over every replica. */
    rateLimit: { max: number; durationMs: number } | undefined;
    /** The models a goal may name in `model`: the planner's and TRIAD_ALLOWED_MODELS (read with modelRefusal()). */
    allowedModels: string[];
  };
  /** Limits across runs, by tenant id (`*`: every tenant not named); read them with tenantLimits(). */
  tenantLimits: TenantLimitsByTenant;
  /** checks: no model call; answers: the model verifies proposed answers; always: it also reflects on each iteration. */
  judgePolicy: 'checks' | 'answers' | 'always';
  /** Planner, executor and judge serve `/healthz` and `/readyz` on this port (0: off; the gateway serves them itself). */
  healthPort: number;
  workspace: string;
  executorId: string;
  /**
   * Jobs a worker runs at once. A role's number, when set, is its ceiling; when not, the ceiling is what the heap
   * holds at `jobHeapBytes` a job. Below it the worker backs off while the event loop or Redis is slow.
   */
  concurrency: {
    planner: number | undefined;
    executor: number | undefined;
    judge: number | undefined;
    jobHeapBytes: number;
    loopDelayHighMs: number;
    redisLatencyHighMs: number;
  };
  toolTimeoutMs: number;
  jobAttempts: number;
  /** Tool calls of one model reply that may run; the rest are refused (`too_many_calls`) and never queued. */
  maxCallsPerReply: number;
  /** Risk levels whose tool calls wait for a human decision; a goal may add levels, never remove them. */
  /** Approval gates: the risks that need a human, how long a gate waits, where its transitions are pushed. */
  approval: { risks: ToolRisk[]; timeoutMs: number; webhookUrl: string | undefined };
  /** The web console's base URL, without a trailing slash (links to a run: `<consoleUrl>/runs/<runId>`). */
  consoleUrl: string;
  http: { allowHosts: string[]; timeoutMs: number; maxBytes: number };
  /** Target of the irreversible `post_webhook` tool; the tool is offered only when this is set. */
  webhookUrl: string | undefined;
  mcpServers: McpServerConfig[];
  /** The HTTP gateway; with no API keys it listens on 127.0.0.1 only and every caller is an anonymous admin. */
  gateway: {
    apiKeys: ApiKeyConfig[];
    host: string;
    port: number;
    maxBodyBytes: number;
    sseKeepAliveMs: number;
    /** Open event streams per gateway process, and per API key (keyless: all callers are one key), at most. */
    sseMax: number;
    sseMaxPerKey: number;
    /** Base URL of a Jaeger UI (TRIAD_JAEGER_URL) the console links traces to; undefined: no link. */
    jaegerUrl: string | undefined;
  };
  /** Signed result webhooks to a goal's `callbackUrl`; unsigned when no secret is set. */
  resultWebhooks: {
    secret: string | undefined;
    attempts: number;
    backoffMs: number;
    timeoutMs: number;
    allowHosts: string[];
  };
  /**
   * How long an ended run's data (record, events, ledger, approvals, kept jobs) stays in Redis, and an Idempotency-Key
   * its run id. With an archive (PostgreSQL), a run is written there before its Redis data starts to expire.
   */
  runData: { retentionMs: number; idempotencyMs: number; archiveUrl: string | undefined };
  /**
   * Semantic memory (libs/shared/src/memory): embeddings from the model server's `embeddingModel`, `dimensions` long
   * (0: the model's own size); entries kept `retentionMs` at most, `maxEntries` per tenant (a tenant's limits may set
   * its own).
   */
  memory: { embeddingModel: string; dimensions: number; retentionMs: number; maxEntries: number };
  telemetry: TelemetryConfig;
}

/** Parses the environment; a bad value throws a ConfigError naming every offending variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): TriadConfig {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  if (e.TRIAD_REDIS_CLUSTER && !e.TRIAD_PREFIX.startsWith('{')) {
    throw new ConfigError(
      'invalid configuration:\n  TRIAD_PREFIX: on a Redis Cluster (TRIAD_REDIS_CLUSTER) the prefix must be a hash tag, so ' +
        `that each queue's keys share one slot: set TRIAD_PREFIX={${e.TRIAD_PREFIX}}`,
    );
  }
  // The credentials this process holds: error messages are scrubbed of them before they are stored, sent or traced.
  registerCredentials(
    e.OPENAI_API_KEY,
    e.TRIAD_WEBHOOK_SECRET,
    ...e.TRIAD_API_KEYS.map((k) => k.key),
    ...credentialsInUrl(e.REDIS_URL),
    ...(e.TRIAD_ARCHIVE_URL ? credentialsInUrl(e.TRIAD_ARCHIVE_URL) : []),
  );
  return {
    redisUrl: e.REDIS_URL,
    redisMemoryHigh: e.TRIAD_REDIS_MEMORY_HIGH,
    redisCluster: e.TRIAD_REDIS_CLUSTER,
    prefix: e.TRIAD_PREFIX,
    model: {
      apiKey: e.OPENAI_API_KEY,
      baseUrl: e.OPENAI_BASE_URL,
      plannerModel: e.TRIAD_PLANNER_MODEL ?? e.TRIAD_MODEL,
      judgeModel: e.TRIAD_JUDGE_MODEL ?? e.TRIAD_MODEL,
      timeoutMs: e.TRIAD_MODEL_TIMEOUT_MS,
      maxRetries: e.TRIAD_MODEL_MAX_RETRIES,
      prices: e.TRIAD_MODEL_PRICES,
      maxOutputTokens: e.TRIAD_MODEL_MAX_OUTPUT_TOKENS,
      rateLimit: e.TRIAD_MODEL_RATE_LIMIT,
      allowedModels: [...new Set([e.TRIAD_PLANNER_MODEL ?? e.TRIAD_MODEL, ...e.TRIAD_ALLOWED_MODELS])],
    },
    tenantLimits: e.TRIAD_TENANT_LIMITS,
    judgePolicy: e.TRIAD_JUDGE_POLICY,
    healthPort: e.TRIAD_HEALTH_PORT,
    workspace: resolve(e.TRIAD_WORKSPACE),
    executorId: e.TRIAD_EXECUTOR_ID ?? `${hostname()}-${process.pid}`,
    concurrency: {
      planner: e.TRIAD_PLANNER_CONCURRENCY,
      executor: e.TRIAD_EXECUTOR_CONCURRENCY,
      judge: e.TRIAD_JUDGE_CONCURRENCY,
      jobHeapBytes: e.TRIAD_JOB_HEAP_KB * 1024,
      loopDelayHighMs: e.TRIAD_BACKPRESSURE_LOOP_DELAY_MS,
      redisLatencyHighMs: e.TRIAD_BACKPRESSURE_REDIS_MS,
    },
    toolTimeoutMs: e.TRIAD_TOOL_TIMEOUT_MS,
    jobAttempts: e.TRIAD_JOB_ATTEMPTS,
    maxCallsPerReply: e.TRIAD_MAX_CALLS_PER_REPLY,
    approval: {
      risks: e.TRIAD_APPROVAL_RISKS,
      timeoutMs: e.TRIAD_APPROVAL_TIMEOUT_MS,
      webhookUrl: e.TRIAD_APPROVAL_WEBHOOK_URL,
    },
    consoleUrl: (e.TRIAD_CONSOLE_URL ?? `http://localhost:${e.TRIAD_GATEWAY_PORT}/console`).replace(/\/+$/, ''),
    http: {
      allowHosts: e.TRIAD_HTTP_ALLOW_HOSTS,
      timeoutMs: e.TRIAD_HTTP_TIMEOUT_MS,
      maxBytes: e.TRIAD_HTTP_MAX_BYTES,
    },
    webhookUrl: e.TRIAD_WEBHOOK_URL,
    mcpServers: e.TRIAD_MCP_SERVERS,
    gateway: {
      apiKeys: e.TRIAD_API_KEYS,
      host: e.TRIAD_GATEWAY_HOST,
      port: e.TRIAD_GATEWAY_PORT,
      maxBodyBytes: e.TRIAD_MAX_BODY_BYTES,
      sseKeepAliveMs: e.TRIAD_SSE_KEEPALIVE_MS,
      sseMax: e.TRIAD_SSE_MAX,
      sseMaxPerKey: e.TRIAD_SSE_MAX_PER_KEY,
      jaegerUrl: e.TRIAD_JAEGER_URL,
    },
    resultWebhooks: {
      secret: e.TRIAD_WEBHOOK_SECRET,
      attempts: e.TRIAD_WEBHOOK_ATTEMPTS,
      backoffMs: e.TRIAD_WEBHOOK_BACKOFF_MS,
      timeoutMs: e.TRIAD_WEBHOOK_TIMEOUT_MS,
      allowHosts: e.TRIAD_WEBHOOK_ALLOW_HOSTS,
    },
    runData: {
      retentionMs: e.TRIAD_RUN_RETENTION,
      idempotencyMs: e.TRIAD_IDEMPOTENCY_TTL,
      archiveUrl: e.TRIAD_ARCHIVE_URL,
    },
    memory: {
      embeddingModel: e.TRIAD_EMBEDDING_MODEL,
      dimensions: e.TRIAD_EMBEDDING_DIMENSIONS,
      retentionMs: e.TRIAD_MEMORY_RETENTION,
      maxEntries: e.TRIAD_MEMORY_MAX_ENTRIES,
    },
    telemetry: loadTelemetryConfig(env),
  };
}

// A Redis or PostgreSQL URL may carry a password (redis://:pw@host); a connection error quoting the URL must not show it.
function credentialsInUrl(raw: string): string[] {
  const password = URL.parse(raw)?.password ?? '';
  try {
    return [password, decodeURIComponent(password)];
  } catch {
    return [password];
  }
}
