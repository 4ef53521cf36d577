import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';
import { ToolRisk } from '../contracts/tool-spec.js';
import { ConfigError } from '../errors/triad-error.js';

const int = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);
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

const EnvSchema = z.object({
  REDIS_URL: z.preprocess(blankAsUndefined, z.url({ protocol: /^rediss?$/ }).default('redis://127.0.0.1:6379')),
  TRIAD_PREFIX: z.preprocess(
    blankAsUndefined,
    z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/)
      .default('triad'),
  ),
  OPENAI_API_KEY: optionalString,
  OPENAI_BASE_URL: z.preprocess(blankAsUndefined, z.url().optional()),
  TRIAD_MODEL: z.preprocess(blankAsUndefined, z.string().default('gpt-4.1-mini')),
  TRIAD_PLANNER_MODEL: optionalString,
  TRIAD_JUDGE_MODEL: optionalString,
  TRIAD_JUDGE_POLICY: z.preprocess(blankAsUndefined, z.enum(['checks', 'answers', 'always']).default('answers')),
  TRIAD_MODEL_TIMEOUT_MS: int(60_000, 1),
  TRIAD_MODEL_MAX_RETRIES: int(2),
  TRIAD_WORKSPACE: z.preprocess(blankAsUndefined, z.string().default('examples/workspace')),
  TRIAD_EXECUTOR_ID: optionalString,
  TRIAD_EXECUTOR_CONCURRENCY: int(8, 1),
  TRIAD_PLANNER_CONCURRENCY: int(4, 1),
  TRIAD_JUDGE_CONCURRENCY: int(4, 1),
  TRIAD_TOOL_TIMEOUT_MS: int(30_000, 1),
  TRIAD_JOB_ATTEMPTS: int(5, 1),
  TRIAD_APPROVAL_RISKS: z.preprocess(
    (v) =>
      typeof v === 'string'
        ? v
            .split(',')
            .map((s) => s.trim())
            .filter((s) => s && s !== 'none')
        : v,
    z.array(ToolRisk).default(['irreversible']),
  ),
  TRIAD_APPROVAL_TIMEOUT_MS: int(3_600_000, 1_000),
  TRIAD_HTTP_ALLOW_HOSTS: z.preprocess(
    (v) =>
      typeof v === 'string'
        ? v
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : v,
    z.array(z.string()).default([]),
  ),
  TRIAD_HTTP_TIMEOUT_MS: int(10_000, 1),
  TRIAD_HTTP_MAX_BYTES: int(1024 * 1024, 1),
  TRIAD_WEBHOOK_URL: z.preprocess(blankAsUndefined, z.url({ protocol: /^https?$/ }).optional()),
  TRIAD_MCP_SERVERS: z.preprocess(parseJson, z.array(McpServerConfig).default([])),
});

/** Triad's configuration, read from the environment once at boot. */
export interface TriadConfig {
  redisUrl: string;
  prefix: string;
  model: {
    apiKey: string | undefined;
    baseUrl: string | undefined;
    plannerModel: string;
    judgeModel: string;
    timeoutMs: number;
    maxRetries: number;
  };
  /** checks: no model call; answers: the model verifies proposed answers; always: it also reflects on each iteration. */
  judgePolicy: 'checks' | 'answers' | 'always';
  workspace: string;
  executorId: string;
  concurrency: { planner: number; executor: number; judge: number };
  toolTimeoutMs: number;
  jobAttempts: number;
  /** Risk levels whose tool calls wait for a human decision; a goal may add levels, never remove them. */
  approval: { risks: ToolRisk[]; timeoutMs: number };
  http: { allowHosts: string[]; timeoutMs: number; maxBytes: number };
  /** Target of the irreversible `post_webhook` tool; the tool is offered only when this is set. */
  webhookUrl: string | undefined;
  mcpServers: McpServerConfig[];
}

/** Parses the environment; a bad value throws a ConfigError naming every offending variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): TriadConfig {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  return {
    redisUrl: e.REDIS_URL,
    prefix: e.TRIAD_PREFIX,
    model: {
      apiKey: e.OPENAI_API_KEY,
      baseUrl: e.OPENAI_BASE_URL,
      plannerModel: e.TRIAD_PLANNER_MODEL ?? e.TRIAD_MODEL,
      judgeModel: e.TRIAD_JUDGE_MODEL ?? e.TRIAD_MODEL,
      timeoutMs: e.TRIAD_MODEL_TIMEOUT_MS,
      maxRetries: e.TRIAD_MODEL_MAX_RETRIES,
    },
    judgePolicy: e.TRIAD_JUDGE_POLICY,
    workspace: resolve(e.TRIAD_WORKSPACE),
    executorId: e.TRIAD_EXECUTOR_ID ?? `${hostname()}-${process.pid}`,
    concurrency: {
      planner: e.TRIAD_PLANNER_CONCURRENCY,
      executor: e.TRIAD_EXECUTOR_CONCURRENCY,
      judge: e.TRIAD_JUDGE_CONCURRENCY,
    },
    toolTimeoutMs: e.TRIAD_TOOL_TIMEOUT_MS,
    jobAttempts: e.TRIAD_JOB_ATTEMPTS,
    approval: { risks: e.TRIAD_APPROVAL_RISKS, timeoutMs: e.TRIAD_APPROVAL_TIMEOUT_MS },
    http: {
      allowHosts: e.TRIAD_HTTP_ALLOW_HOSTS,
      timeoutMs: e.TRIAD_HTTP_TIMEOUT_MS,
      maxBytes: e.TRIAD_HTTP_MAX_BYTES,
    },
    webhookUrl: e.TRIAD_WEBHOOK_URL,
    mcpServers: e.TRIAD_MCP_SERVERS,
  };
}
