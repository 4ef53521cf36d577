import type { ChildProcess } from 'node:child_process';
import { type EventuallyOptions, eventually } from './eventually.js';

export interface ChildRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** How long a short command (a CLI call, a producer) may take before the test gives up on it. */
export const COMMAND_WAIT_MS = 120_000;

/**
 * A child process's output as it comes, and waits on it that give up with context: what was awaited, for how
 * long, and the last of what the child printed. A child that outlives a wait is killed.
 */
export class WatchedChild {
  stdout = '';
  stderr = '';
  private result: ChildRun | undefined;

  /** `group`: the child was spawned `detached`, leading a process group that is killed whole if a wait fails. */
  constructor(
    readonly child: ChildProcess,
    private readonly opts: { group?: boolean } = {},
  ) {
    child.stdout?.on('data', (c) => {
      this.stdout += c;
    });
    child.stderr?.on('data', (c) => {
      this.stderr += c;
    });
    child.once('close', (code) => {
      this.result = { code, stdout: this.stdout, stderr: this.stderr };
    });
  }

  /** Waits for the child to end. */
  exit(opts: EventuallyOptions): Promise<ChildRun> {
    return this.wait(() => this.result, { timeoutMs: COMMAND_WAIT_MS, ...opts });
  }

  /** Waits until the child's stdout matches `pattern`; gives up at once if the child ends first. */
  async printed(pattern: RegExp, opts: EventuallyOptions): Promise<RegExpExecArray> {
    const seen = await this.wait(() => pattern.exec(this.stdout) ?? this.result, opts);
    if (!Array.isArray(seen)) {
      this.fail(`ended with code ${seen.code} before printing ${pattern} (waiting for ${opts.what})`, opts);
    }
    return seen as RegExpExecArray;
  }

  private async wait<T>(probe: () => T | null | undefined, opts: EventuallyOptions): Promise<T> {
    try {
      return await eventually(probe, { ...opts, context: () => this.context(opts) });
    } catch (err) {
      if (this.opts.group && this.child.pid) process.kill(-this.child.pid, 'SIGKILL');
      else this.child.kill('SIGKILL');
      throw err;
    }
  }

  private fail(message: string, opts: EventuallyOptions): never {
    throw new Error(`${message}\n${this.context(opts)}`);
  }

  private context(opts: EventuallyOptions): string {
    const own = `--- stdout\n${this.stdout.slice(-3000)}\n--- stderr\n${this.stderr.slice(-3000)}`;
    return opts.context ? `${own}\n${opts.context()}` : own;
  }
}
