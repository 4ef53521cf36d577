import { readFile } from 'node:fs/promises';

/**
 * Why a service did not become ready. The message is `<name> <reason>:` and the raw tail of its output (for logs
 * and tests); `lastLines` is the same tail made short for a terminal.
 */
export class ServiceStartError extends Error {
  readonly lastLines: string[];

  constructor(
    readonly service: string,
    readonly reason: string,
    output: string,
  ) {
    super(`${service} ${reason}:\n${output.slice(-4_000)}`);
    this.name = 'ServiceStartError';
    this.lastLines = lastLines(output, 12);
  }

  /** For a terminal: what happened, then the service's last lines. */
  describe(): string {
    const head = `${this.service} did not start: ${this.reason}; its last lines:`;
    return [head, ...this.lastLines.map((l) => `  | ${l}`)].join('\n');
  }
}

export interface ReadinessWatch {
  /** Resolves when the service has said it is ready. */
  ready: Promise<void>;
  exited: Promise<number | null>;
  /** Everything printed so far. */
  output(): string;
  pid: number | undefined;
  /** Give up when neither a line nor CPU time came for this long. */
  stallMs: number;
  /** Give up after this long whatever the progress (tests); none by default. */
  capMs?: number;
  /** Called now and then while waiting, with what the service is doing. */
  onWaiting?: (detail: string) => void;
  signal?: AbortSignal;
  /** How often progress is checked, and how often `onWaiting` is called (defaults 1 s and 10 s). */
  pollMs?: number;
  reportEveryMs?: number;
}

/** The reason of a start given up because its signal was aborted. */
export const STOPPED = 'was stopped before it was ready';
const POLL_MS = 1_000;
const REPORT_EVERY_MS = 10_000;

/**
 * Waits until a starting service is ready, for as long as it makes progress: a new output line or more CPU time
 * (Linux: /proc) counts. Resolves 'ready', or with why it gave up: the process exited, stalled, or the wait was
 * aborted.
 */
export async function waitUntilReady(w: ReadinessWatch): Promise<'ready' | string> {
  const started = Date.now();
  let lastProgress = started;
  let lastReport = started;
  let seenOutput = w.output().length;
  let seenCpu = await cpuTicks(w.pid);
  let timer: NodeJS.Timeout | undefined;
  let onAbort = () => {};
  const watched = new Promise<string>((resolve) => {
    onAbort = () => resolve(STOPPED);
    if (w.signal?.aborted) onAbort();
    w.signal?.addEventListener('abort', onAbort, { once: true });
    const check = async () => {
      const now = Date.now();
      const cpu = await cpuTicks(w.pid);
      const out = w.output().length;
      if (out !== seenOutput || cpu !== seenCpu) lastProgress = now;
      seenOutput = out;
      seenCpu = cpu;
      if (now - lastProgress > w.stallMs) {
        return resolve(`made no progress (no output, no CPU time) for ${w.stallMs / 1000} s`);
      }
      if (w.capMs !== undefined && now - started > w.capMs) return resolve(`not ready after ${w.capMs} ms`);
      if (now - lastReport >= (w.reportEveryMs ?? REPORT_EVERY_MS)) {
        lastReport = now;
        const last = lastLines(w.output(), 1)[0];
        w.onWaiting?.(`${Math.round((now - started) / 1000)} s${last ? `, last: ${last}` : ', nothing printed yet'}`);
      }
      timer = setTimeout(check, w.pollMs ?? POLL_MS);
    };
    timer = setTimeout(check, w.pollMs ?? POLL_MS);
  });
  try {
    return await Promise.race([
      w.ready.then(() => 'ready' as const),
      w.exited.then((code) => `exited with code ${code}`),
      watched,
    ]);
  } finally {
    clearTimeout(timer); // a pending timer would keep the caller's process (a test runner) alive
    w.signal?.removeEventListener('abort', onAbort);
  }
}

/** The last `n` lines a service printed, JSON log lines shortened to `level: message`. */
export function lastLines(output: string, n: number): string[] {
  const lines = output.split('\n').filter((l) => l.trim());
  return lines.slice(-n).map(shorten);
}

/** A service's output line for a terminal: a JSON log line as `level: message`, anything else as it is. */
export function shorten(line: string): string {
  if (!line.startsWith('{')) return line.slice(0, 400);
  try {
    const log = JSON.parse(line) as { level?: unknown; msg?: unknown; err?: { message?: unknown } };
    const msg = typeof log.msg === 'string' ? log.msg : '';
    const err = typeof log.err?.message === 'string' && !msg.includes(log.err.message) ? ` (${log.err.message})` : '';
    return `${String(log.level ?? 'log')}: ${msg}${err}`.slice(0, 400);
  } catch {
    return line.slice(0, 400);
  }
}

/** CPU time used by a process so far, in clock ticks; 0 where /proc is not there. */
async function cpuTicks(pid: number | undefined): Promise<number> {
  if (!pid) return 0;
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at state; utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}
