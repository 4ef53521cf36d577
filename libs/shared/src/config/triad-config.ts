import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../errors/triad-error.js';

const int = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);
const blankAsUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const optionalString = z.preprocess(blankAsUndefined, z.string().optional());

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
  };
}
