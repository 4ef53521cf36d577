// Service start-up: each role's process started exactly as the CLI starts it (spawnService: same Node flags, same
// telemetry preload), timed from spawn to its `ready (prefix …)` line, then stopped; N times per role, round robin
// so drift in the machine's load hits every role alike. Once with telemetry exporting nothing (the default) and
// once exporting over OTLP/HTTP to a receiver in the bench. Planner, executor and judge serve their health listener
// (TRIAD_HEALTH_PORT), as in Kubernetes; one process runs at a time, so they share a port.
//
// BENCH_STARTUP_BASELINE=<another built checkout of Triad> interleaves that checkout's services (started by its own
// spawnService) with these, start for start, so a change is compared with its baseline within one run: on a shared
// machine, absolute start-up times drift with the load more than a change moves them.
import { type AddressInfo, createServer } from 'node:net';
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

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer().once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });

const ROLES = ['planner', 'executor', 'judge', 'gateway'] as const;
type Role = (typeof ROLES)[number];
type Spawn = typeof spawnService;
const capitalized = (s: string) => s[0].toUpperCase() + s.slice(1);

interface Variant {
  /** The figures' suffix: '' for this checkout without export. */
  key: string;
  spawn: Spawn;
  env: NodeJS.ProcessEnv;
  times: Record<Role, number[]>;
}

export async function measureServiceReady(opts: BenchOptions) {
  const n = opts.quick ? 3 : 5;
  const prefix = randomPrefix('s');
  const redis = createRedisConnection(SHARED_REDIS_URL, 'bench-startup');
  const removeKeys = onCleanup(`keys ${prefix}`, async () => {
    await deleteKeys(redis, prefix);
    await redis.quit();
  });
  const sink = await startOtlpSink();
  const plain: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    REDIS_URL: SHARED_REDIS_URL,
    TRIAD_PREFIX: prefix,
    // Nothing is asked of the model while a service starts; the address only has to parse.
    OPENAI_BASE_URL: 'http://127.0.0.1:9/v1',
    OPENAI_API_KEY: 'bench',
    TRIAD_GATEWAY_PORT: '0',
    TRIAD_HEALTH_PORT: String(await freePort()),
    ...TRIAD_BASE_ENV,
  };
  const exporting = { ...plain, OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' };
  const variant = (key: string, spawn: Spawn, env: NodeJS.ProcessEnv): Variant => ({
    key,
    spawn,
    env,
    times: { planner: [], executor: [], judge: [], gateway: [] },
  });
  const variants = [variant('', spawnService, plain), variant('Exporting', spawnService, exporting)];
  const baselineRoot = process.env.BENCH_STARTUP_BASELINE;
  if (baselineRoot) {
    const url = new URL('cli/dist/stack/service-processes.js', `file://${baselineRoot.replace(/\/?$/, '/')}`);
    const baseline = (await import(url.href)) as { spawnService: Spawn };
    variants.push(variant('Baseline', baseline.spawnService, plain));
    variants.push(variant('BaselineExporting', baseline.spawnService, exporting));
  }
  log(`startup: ${n} starts of each role, ${variants.map((v) => v.key || 'plain').join(', ')}`);
  try {
    // One start of each first, not counted: the first reads every file from disk.
    for (const v of variants) for (const role of ROLES) await (await v.spawn({ role, env: v.env })).stop(5_000);
    for (let i = 0; i < n; i++) {
      for (const role of ROLES) {
        for (const v of variants) {
          const started = performance.now();
          const proc = await v.spawn({ role, env: v.env });
          v.times[role].push(performance.now() - started);
          await proc.stop(5_000);
        }
      }
    }
  } finally {
    await removeKeys();
  }
  const figures: Record<string, number> = {};
  const p50 = (v: Variant) => median(ROLES.flatMap((r) => v.times[r]));
  for (const v of variants) {
    figures[`serviceReadyMsP50${v.key}`] = round(p50(v), 1);
    for (const role of ROLES)
      figures[`serviceReadyMsP50${v.key}${capitalized(role)}`] = round(median(v.times[role]), 1);
  }
  const [ours, ourExporting, base, baseExporting] = variants;
  if (base) {
    figures.serviceReadyRatioVsBaseline = round(p50(ours) / p50(base), 3);
    figures.serviceReadyRatioVsBaselineExporting = round(p50(ourExporting) / p50(baseExporting), 3);
  }
  const rows = variants.flatMap((v) => [
    {
      measure: `service ready, p50${v.key ? ` (${v.key})` : ''}`,
      value: `${fmt(p50(v), 0)} ms`,
      note: `${n} starts x ${ROLES.length} roles`,
    },
    {
      measure: '  by role',
      value: '',
      note: ROLES.map((r) => `${r} ${fmt(median(v.times[r]), 0)}`).join(', '),
    },
  ]);
  if (base) {
    rows.push({
      measure: 'ready time vs baseline',
      value: fmt(p50(ours) / p50(base), 3),
      note: `exporting ${fmt(p50(ourExporting) / p50(baseExporting), 3)}`,
    });
  }
  return { figures, rows };
}
