// Service start-up: each role's process started exactly as the CLI starts it (spawnService: same Node flags, same
// telemetry preload), timed from spawn to its `ready (prefix …)` line, then stopped; N times per role, round robin
// so drift in the machine's load hits every role alike. Once with telemetry exporting nothing (the default) and
// once exporting over OTLP/HTTP to a receiver in the bench.
import { createRedisConnection } from '@triad/shared';
import { spawnService } from '../cli/dist/stack/service-processes.js';
import {
  type BenchOptions,
  deleteKeys,
  fmt,
  log,
  median,
  onCleanup,
  randomPrefix,
  round,
  SHARED_REDIS_URL,
  startOtlpSink,
  TRIAD_BASE_ENV,
} from './support.ts';

const ROLES = ['planner', 'executor', 'judge', 'gateway'] as const;
type Role = (typeof ROLES)[number];
const capitalized = (role: Role) => role[0].toUpperCase() + role.slice(1);

export async function measureServiceReady(opts: BenchOptions) {
  const n = opts.quick ? 3 : 5;
  const prefix = randomPrefix('s');
  const redis = createRedisConnection(SHARED_REDIS_URL, 'bench-startup');
  const removeKeys = onCleanup(`keys ${prefix}`, async () => {
    await deleteKeys(redis, prefix);
    await redis.quit();
  });
  const sink = await startOtlpSink();
  const base: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    REDIS_URL: SHARED_REDIS_URL,
    TRIAD_PREFIX: prefix,
    // Nothing is asked of the model while a service starts; the address only has to parse.
    OPENAI_BASE_URL: 'http://127.0.0.1:9/v1',
    OPENAI_API_KEY: 'bench',
    TRIAD_GATEWAY_PORT: '0',
    ...TRIAD_BASE_ENV,
  };
  const variants = {
    plain: base,
    exporting: { ...base, OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' },
  };
  const times: Record<keyof typeof variants, Record<Role, number[]>> = {
    plain: { planner: [], executor: [], judge: [], gateway: [] },
    exporting: { planner: [], executor: [], judge: [], gateway: [] },
  };
  log(`startup: ${n} starts of each role, without and with OTLP export`);
  // One start of each first, not counted: the first reads every file from disk.
  for (const role of ROLES) await (await spawnService({ role, env: base })).stop(5_000);
  try {
    for (let i = 0; i < n; i++) {
      for (const variant of ['plain', 'exporting'] as const) {
        for (const role of ROLES) {
          const started = performance.now();
          const proc = await spawnService({ role, env: variants[variant] });
          times[variant][role].push(performance.now() - started);
          await proc.stop(5_000);
        }
      }
    }
  } finally {
    await removeKeys();
  }
  const all = (variant: keyof typeof variants) => ROLES.flatMap((r) => times[variant][r]);
  const plainP50 = median(all('plain'));
  const exportingP50 = median(all('exporting'));
  const figures: Record<string, number> = {
    serviceReadyMsP50: round(plainP50, 1),
    serviceReadyMsP50Exporting: round(exportingP50, 1),
  };
  for (const role of ROLES) {
    figures[`serviceReadyMsP50${capitalized(role)}`] = round(median(times.plain[role]), 1);
    figures[`serviceReadyMsP50Exporting${capitalized(role)}`] = round(median(times.exporting[role]), 1);
  }
  return {
    figures,
    rows: [
      { measure: 'service ready, p50', value: `${fmt(plainP50, 0)} ms`, note: `${n} starts x 4 roles, no export` },
      ...ROLES.map((role) => ({
        measure: `  ${role}`,
        value: `${fmt(median(times.plain[role]), 0)} ms`,
        note: `exporting ${fmt(median(times.exporting[role]), 0)} ms`,
      })),
      { measure: 'service ready exporting, p50', value: `${fmt(exportingP50, 0)} ms`, note: 'OTLP/HTTP protobuf' },
    ],
  };
}
