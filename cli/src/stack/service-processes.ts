import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

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
  readyTimeoutMs?: number;
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
  // Ready in about 3 s on a quiet machine; four services starting at once on a busy 2-core one take far longer.
  const timeoutMs = opts.readyTimeoutMs ?? 90_000;
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    ready.then(() => 'ready' as const),
    exited.then((code) => `exited with code ${code}` as const),
    new Promise<string>((r) => {
      timer = setTimeout(r, timeoutMs, `not ready after ${timeoutMs} ms`);
    }),
  ]);
  clearTimeout(timer); // a pending timer would keep the caller's process (a test runner) alive for its length
  if (outcome !== 'ready') {
    child.kill('SIGKILL');
    throw new Error(`${name} ${outcome}:\n${output.slice(-4_000)}`);
  }
  return proc;
}

/** Starts planner, `executors` executors and judge as separate processes. */
export async function startServices(
  env: NodeJS.ProcessEnv,
  opts: { executors?: number; onLine?: SpawnServiceOptions['onLine']; readyTimeoutMs?: number } = {},
): Promise<ServiceProcess[]> {
  const specs: { role: ServiceRole; name: string }[] = [
    { role: 'planner', name: 'planner' },
    ...Array.from({ length: opts.executors ?? 2 }, (_, i) => ({
      role: 'executor' as const,
      name: `executor-${i + 1}`,
    })),
    { role: 'judge', name: 'judge' },
  ];
  const started = await Promise.allSettled(
    specs.map((s) => spawnService({ ...s, env, onLine: opts.onLine, readyTimeoutMs: opts.readyTimeoutMs })),
  );
  const procs = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failure = started.find((r) => r.status === 'rejected');
  if (failure) {
    await Promise.all(procs.map((p) => p.stop()));
    throw (failure as PromiseRejectedResult).reason;
  }
  return procs;
}
