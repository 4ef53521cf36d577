import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { exitWithThisProcess } from './exit-with-this-process.js';
import { ServiceStartError, STOPPED, waitUntilReady } from './service-readiness.js';

/** The repository root, the same from cli/src/stack (tests) and cli/dist/stack (built). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export type ServiceRole = 'planner' | 'executor' | 'judge' | 'gateway';

export interface ServiceProcess {
  role: ServiceRole;
  name: string;
  child: ChildProcess;
  /** Everything the process printed so far (stdout and stderr), for diagnostics. */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL at once: a crash. */
  kill(): Promise<void>;
  exited: Promise<number | null>;
}

export interface SpawnServiceOptions {
  role: ServiceRole;
  name?: string;
  env: NodeJS.ProcessEnv;
  /** Called with each line the service prints. */
  onLine?: (line: string, name: string) => void;
  /** Give up when the service shows no progress (no output, no CPU time) for this long; default 60 s. */
  stallMs?: number;
  /** Give up after this long whatever the progress (tests); by default the wait lasts while it progresses. */
  readyTimeoutMs?: number;
  /** Called every few seconds while the service is not ready yet, with what it is doing. */
  onWaiting?: (name: string, detail: string) => void;
  /** Aborting stops the start: the process is killed and the start fails. */
  signal?: AbortSignal;
}

/** Starts one built service (`services/<role>/dist/main.js`) on this Node, and waits until it says it is ready. */
export async function spawnService(opts: SpawnServiceOptions): Promise<ServiceProcess> {
  const name = opts.name ?? opts.role;
  const entry = `${REPO_ROOT}services/${opts.role}/dist/main.js`;
  // Tracing starts before the service's own imports, so http can be instrumented (when exporting).
  const telemetry = `${REPO_ROOT}libs/shared/dist/telemetry/register.js`;
  const child = spawn(process.execPath, ['--enable-source-maps', '--import', telemetry, entry], {
    env: { ...opts.env, TRIAD_EXECUTOR_ID: opts.env.TRIAD_EXECUTOR_ID ?? name, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let resolveReady: () => void = () => {};
  const ready = new Promise<void>((r) => {
    resolveReady = r;
  });
  const onData = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    output += text;
    if (output.length > 1_000_000) output = output.slice(-500_000);
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      opts.onLine?.(line, name);
      if (/\bready \(prefix /.test(line)) resolveReady();
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  exitWithThisProcess(child);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const proc: ServiceProcess = {
    role: opts.role,
    name,
    child,
    output: () => output,
    exited,
    stop: async (graceMs = 10_000) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
    kill: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
  // Ready in about 3 s on a quiet machine; four services starting at once on a busy 2-core one take far longer,
  // so the wait lasts as long as the service makes progress.
  const outcome = await waitUntilReady({
    ready,
    exited,
    output: () => output,
    pid: child.pid,
    stallMs: opts.stallMs ?? 60_000,
    capMs: opts.readyTimeoutMs,
    onWaiting: opts.onWaiting && ((detail) => opts.onWaiting?.(name, detail)),
    signal: opts.signal,
  });
  if (outcome !== 'ready') {
    await proc.kill();
    throw new ServiceStartError(name, outcome, output);
  }
  return proc;
}

/** Starts planner, `executors` executors and judge as separate processes. */
export async function startServices(
  env: NodeJS.ProcessEnv,
  opts: {
    executors?: number;
    /** Variables of one service's own (e.g. its metrics port), over `env`. */
    envOf?: (name: string) => NodeJS.ProcessEnv;
  } & Pick<SpawnServiceOptions, 'onLine' | 'onWaiting' | 'readyTimeoutMs' | 'stallMs' | 'signal'> = {},
): Promise<ServiceProcess[]> {
  const specs: { role: ServiceRole; name: string }[] = [
    { role: 'planner', name: 'planner' },
    ...Array.from({ length: opts.executors ?? 2 }, (_, i) => ({
      role: 'executor' as const,
      name: `executor-${i + 1}`,
    })),
    { role: 'judge', name: 'judge' },
  ];
  // One failure stops the others' start too: no point waiting for them, and the failure is the news.
  const starting = new AbortController();
  const stopStarting = () => starting.abort();
  opts.signal?.addEventListener('abort', stopStarting, { once: true });
  if (opts.signal?.aborted) stopStarting();
  const started = await Promise.allSettled(
    specs.map((s) =>
      spawnService({ ...opts, ...s, env: { ...env, ...opts.envOf?.(s.name) }, signal: starting.signal }).catch(
        (err: unknown) => {
          stopStarting();
          throw err;
        },
      ),
    ),
  );
  opts.signal?.removeEventListener('abort', stopStarting);
  const procs = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  // The first failure that is not merely "stopped because another failed".
  const failures = started.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
  const failure = failures.find((e) => !(e instanceof ServiceStartError && e.reason === STOPPED)) ?? failures[0];
  if (failure) {
    await Promise.all(procs.map((p) => p.stop()));
    throw failure;
  }
  return procs;
}
