import { describe, expect, it } from '@jest/globals';
import { ConfigError } from '../errors/triad-error.js';
import { CONFIG_VARIABLES, loadConfig } from './triad-config.js';

// "A bad config value stops the service and names the variable": one bad value per variable the parser reads.
// A variable added to the schema without a row here fails the coverage test below.
const BAD: Record<string, string[]> = {
  OTEL_EXPORTER_OTLP_ENDPOINT: ['not a url', 'grpc://jaeger:4317'],
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: ['jaeger:4318'],
  OTEL_EXPORTER_OTLP_PROTOCOL: ['grpc'],
  TRIAD_TRACE_CONTENT: ['yes'],
  TRIAD_METRICS_PORT: ['70000', 'nine'],
  TRIAD_METRICS_HOST: ['not a host!', 'http://0.0.0.0'],
  TRIAD_LOG_LEVEL: ['verbose'],
  TRIAD_API_KEYS: ['ops:secret:superuser', 'ops:a:admin,ops:b:read', 'bad name:k:admin', 'ops::admin'],
  TRIAD_GATEWAY_HOST: ['not a host!', 'http://0.0.0.0'],
  TRIAD_GATEWAY_PORT: ['-1', '65536', '80.5'],
  TRIAD_MAX_BODY_BYTES: ['0'],
  TRIAD_SSE_KEEPALIVE_MS: ['99'],
  TRIAD_WEBHOOK_ATTEMPTS: ['0'],
  TRIAD_WEBHOOK_BACKOFF_MS: ['soon'],
  TRIAD_WEBHOOK_TIMEOUT_MS: ['1.5'],
  TRIAD_WEBHOOK_ALLOW_HOSTS: ['10.0.0.0/99', 'hooks.example,not a host!'],
  TRIAD_SSE_MAX: ['0', 'many'],
  TRIAD_SSE_MAX_PER_KEY: ['0'],
  REDIS_URL: ['http://127.0.0.1:6379', 'not a url'],
  TRIAD_PREFIX: ['a:b', 'x'.repeat(65), '{}', 'a{b}', '{a}{b}'],
  TRIAD_REDIS_MEMORY_HIGH: ['1', '1.2', '-0.1', '90%', 'high'],
  TRIAD_REDIS_CLUSTER: ['redis-0', 'redis-0:6379,redis-1', 'redis-0:0', 'redis-0:65536', 'a:b:1'],
  OPENAI_BASE_URL: ['not a url'],
  TRIAD_JUDGE_POLICY: ['sometimes'],
  TRIAD_ALLOWED_MODELS: [`gpt-4.1,${'m'.repeat(201)}`],
  TRIAD_HEALTH_PORT: ['65536', 'http'],
  TRIAD_MODEL_TIMEOUT_MS: ['0'],
  TRIAD_MODEL_MAX_RETRIES: ['-1'],
  TRIAD_MODEL_MAX_OUTPUT_TOKENS: ['0', 'x'],
  TRIAD_MODEL_PRICES: ['{not json', '{"m":{"inputPerMTok":-1,"outputPerMTok":1}}', '{"m":{"input":1}}'],
  TRIAD_MODEL_RATE_LIMIT: ['60 per second', '0/1000', '60/0'],
  TRIAD_TENANT_LIMITS: ['{not json', '{"Acme":{}}', '{"acme":{"maxRunsInFlight":0}}', '{"acme":{"maxCost":1}}'],
  TRIAD_EXECUTOR_CONCURRENCY: ['0'],
  TRIAD_PLANNER_CONCURRENCY: ['four'],
  TRIAD_JUDGE_CONCURRENCY: ['0', '2.5'],
  TRIAD_JOB_HEAP_KB: ['0', 'one'],
  TRIAD_BACKPRESSURE_LOOP_DELAY_MS: ['0'],
  TRIAD_BACKPRESSURE_REDIS_MS: ['-5'],
  TRIAD_TOOL_TIMEOUT_MS: ['0'],
  TRIAD_JOB_ATTEMPTS: ['0'],
  TRIAD_MAX_CALLS_PER_REPLY: ['0', '2.5'],
  TRIAD_APPROVAL_RISKS: ['dangerous', 'write,dangerous'],
  TRIAD_APPROVAL_TIMEOUT_MS: ['999'],
  TRIAD_RUN_RETENTION: ['7 days', '-1d', '1w', '0'],
  TRIAD_EMBEDDING_MODEL: ['m'.repeat(201)],
  TRIAD_EMBEDDING_DIMENSIONS: ['-1', '1.5', 'wide'],
  TRIAD_MEMORY_RETENTION: ['90 days', '-1d'],
  TRIAD_MEMORY_MAX_ENTRIES: ['0', 'many'],
  TRIAD_IDEMPOTENCY_TTL: ['1.5h', 'soon'],
  TRIAD_ARCHIVE_URL: ['mysql://db/x', 'not a url'],
  TRIAD_HTTP_ALLOW_HOSTS: ['10.0.0.0/99', 'api.example.com,not a host!', 'example.com/8'],
  TRIAD_HTTP_TIMEOUT_MS: ['0'],
  TRIAD_HTTP_MAX_BYTES: ['0'],
  TRIAD_WEBHOOK_URL: ['ftp://hooks.example', 'hooks.example'],
  TRIAD_JAEGER_URL: ['jaeger:16686', 'ftp://jaeger.example'],
  TRIAD_APPROVAL_WEBHOOK_URL: ['ftp://hooks.example', 'hooks.example', 'https://user:pw@hooks.example/gates'],
  TRIAD_CONSOLE_URL: ['console', 'file:///console'],
  TRIAD_MCP_SERVERS: ['{not json', '{"name":"one"}', '[{"name":"Bad Name","command":"x"}]', '[{"name":"a"}]'],
};

// Free text by design (names, secrets, paths): every value is accepted and reaches the config as given.
const FREE_TEXT: Record<string, (c: ReturnType<typeof loadConfig>) => unknown> = {
  OTEL_SERVICE_NAME: (c) => c.telemetry.serviceName,
  TRIAD_WEBHOOK_SECRET: (c) => c.resultWebhooks.secret,
  OPENAI_API_KEY: (c) => c.model.apiKey,
  TRIAD_MODEL: (c) => c.model.plannerModel,
  TRIAD_PLANNER_MODEL: (c) => c.model.plannerModel,
  TRIAD_JUDGE_MODEL: (c) => c.model.judgeModel,
  TRIAD_WORKSPACE: (c) => c.workspace.split('/').at(-1),
  TRIAD_EXECUTOR_ID: (c) => c.executorId,
};

const cases = Object.entries(BAD).flatMap(([name, values]) => values.map((value) => [name, value] as const));

/** The variables a ConfigError's message names, one per `  NAME...: reason` line. */
function namedVariables(err: unknown): string[] {
  expect(err).toBeInstanceOf(ConfigError);
  const message = (err as ConfigError).message;
  return [...new Set([...message.matchAll(/^ {2}([A-Z][A-Z0-9_]*)[.:]/gm)].map((m) => m[1] as string))];
}

function errorOf(env: NodeJS.ProcessEnv): unknown {
  try {
    loadConfig(env);
  } catch (err) {
    return err;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('configuration', () => {
  it('has a bad-value row or a free-text row for every variable it reads, and no row for anything else', () => {
    expect([...Object.keys(BAD), ...Object.keys(FREE_TEXT)].sort()).toEqual([...CONFIG_VARIABLES].sort());
  });

  it('accepts an empty environment (every variable has a default or is optional)', () => {
    expect(loadConfig({}).prefix).toBe('triad');
  });

  it('leaves a role concurrency unset (derived from the heap) unless a number is given', () => {
    expect(loadConfig({}).concurrency).toEqual({
      planner: undefined,
      executor: undefined,
      judge: undefined,
      jobHeapBytes: 1024 * 1024,
      loopDelayHighMs: 500,
      redisLatencyHighMs: 500,
    });
    const set = loadConfig({ TRIAD_PLANNER_CONCURRENCY: '500', TRIAD_JUDGE_CONCURRENCY: ' ', TRIAD_JOB_HEAP_KB: '64' });
    expect(set.concurrency).toMatchObject({ planner: 500, judge: undefined, jobHeapBytes: 64 * 1024 });
  });

  it('guards intake at 0.9 of maxmemory unless told otherwise; 0 turns the guard off', () => {
    expect(loadConfig({}).redisMemoryHigh).toBe(0.9);
    expect(loadConfig({ TRIAD_REDIS_MEMORY_HIGH: ' ' }).redisMemoryHigh).toBe(0.9);
    expect(loadConfig({ TRIAD_REDIS_MEMORY_HIGH: '0.75' }).redisMemoryHigh).toBe(0.75);
    expect(loadConfig({ TRIAD_REDIS_MEMORY_HIGH: '0' }).redisMemoryHigh).toBe(0);
  });

  it('accepts every form of HTTP allow-list entry the executor understands', () => {
    const hosts = 'api.example.com, 127.0.0.1,[::1],10.1.0.0/16,fd00::/8,localhost.';
    expect(loadConfig({ TRIAD_HTTP_ALLOW_HOSTS: hosts }).http.allowHosts).toEqual([
      'api.example.com',
      '127.0.0.1',
      '[::1]',
      '10.1.0.0/16',
      'fd00::/8',
      'localhost.',
    ]);
  });

  it.each(cases)('refuses %s=%j with a ConfigError naming that variable, and only it', (name, value) => {
    expect(namedVariables(errorOf({ [name]: value }))).toEqual([name]);
  });

  it('refuses a Redis Cluster without a hash-tagged prefix, naming the fix', () => {
    const err = errorOf({ TRIAD_REDIS_CLUSTER: 'redis-0:6379,redis-1:6379', TRIAD_PREFIX: 'acme' });
    expect(namedVariables(err)).toEqual(['TRIAD_PREFIX']);
    expect((err as ConfigError).message).toContain('set TRIAD_PREFIX={acme}');
    expect(namedVariables(errorOf({ TRIAD_REDIS_CLUSTER: 'redis-0:6379' }))).toEqual(['TRIAD_PREFIX']);
  });

  it('reads the seed nodes of a Redis Cluster with a hash-tagged prefix', () => {
    const config = loadConfig({
      TRIAD_REDIS_CLUSTER: ' redis-0:7000, [::1]:7001,10.0.0.3:7002',
      TRIAD_PREFIX: '{triad}',
    });
    expect(config.redisCluster).toEqual([
      { host: 'redis-0', port: 7000 },
      { host: '::1', port: 7001 },
      { host: '10.0.0.3', port: 7002 },
    ]);
    expect(config.prefix).toBe('{triad}');
    expect(loadConfig({ TRIAD_REDIS_CLUSTER: ' ' }).redisCluster).toBeUndefined();
    expect(loadConfig({ TRIAD_PREFIX: '{triad}' }).redisCluster).toBeUndefined(); // a hash tag is fine on one Redis
  });

  it('names every bad variable at once', () => {
    const err = errorOf({ TRIAD_JOB_ATTEMPTS: '0', REDIS_URL: 'http://x', TRIAD_JUDGE_POLICY: 'never' });
    expect(namedVariables(err).sort()).toEqual(['REDIS_URL', 'TRIAD_JOB_ATTEMPTS', 'TRIAD_JUDGE_POLICY']);
  });

  it.each(Object.keys(FREE_TEXT))('takes any text for %s as given', (name) => {
    const value = 'Odd value-ü_1';
    expect(FREE_TEXT[name]?.(loadConfig({ [name]: value }))).toBe(value);
  });
});

describe('run data durations', () => {
  it.each([
    ['7d', 604_800_000],
    ['12h', 43_200_000],
    ['30m', 1_800_000],
    ['90s', 90_000],
    ['500ms', 500],
    ['45', 45_000],
  ])('reads TRIAD_RUN_RETENTION=%s as %d ms', (value, ms) => {
    expect(loadConfig({ TRIAD_RUN_RETENTION: value }).runData.retentionMs).toBe(ms);
  });

  it('links the console on the gateway port by default, and sends no approval push unless told where', () => {
    expect(loadConfig({}).consoleUrl).toBe('http://localhost:8080/console');
    expect(loadConfig({ TRIAD_GATEWAY_PORT: '9000' }).consoleUrl).toBe('http://localhost:9000/console');
    expect(loadConfig({ TRIAD_CONSOLE_URL: 'https://ops.example.com/triad/' }).consoleUrl).toBe(
      'https://ops.example.com/triad',
    );
    expect(loadConfig({}).approval.webhookUrl).toBeUndefined();
    expect(loadConfig({ TRIAD_APPROVAL_WEBHOOK_URL: 'https://chat.example/hook' }).approval.webhookUrl).toBe(
      'https://chat.example/hook',
    );
  });

  it('keeps memories 90 days, 100 000 per tenant, embedded at 256 dimensions by default', () => {
    expect(loadConfig({}).memory).toEqual({
      embeddingModel: 'text-embedding-3-small',
      dimensions: 256,
      retentionMs: 7_776_000_000,
      maxEntries: 100_000,
    });
    expect(loadConfig({ TRIAD_EMBEDDING_DIMENSIONS: '0' }).memory.dimensions).toBe(0);
    expect(
      loadConfig({ TRIAD_TENANT_LIMITS: '{"acme":{"memory":{"learn":false,"maxEntries":10}}}' }).tenantLimits.acme
        ?.memory,
    ).toEqual({ recall: true, learn: false, maxEntries: 10 });
  });

  it('keeps runs 7 days and Idempotency-Keys a day by default, with no archive', () => {
    expect(loadConfig({}).runData).toEqual({
      retentionMs: 604_800_000,
      idempotencyMs: 86_400_000,
      archiveUrl: undefined,
    });
  });
});
