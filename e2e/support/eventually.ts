/** What a wait is for, how long it may take, and what to print when it gives up. */
export interface EventuallyOptions {
  /** Says what was awaited, e.g. `run r1 to end`; it heads the error. */
  what: string;
  timeoutMs?: number;
  intervalMs?: number;
  /** More context for the error, e.g. the last lines of each service's output. */
  context?: () => string;
}

/** The default deadline of a wait: generous, so a slow, busy machine gets there; the e2e test limit is higher. */
export const DEFAULT_WAIT_MS = 60_000;

/**
 * Calls `probe` until it returns something other than undefined, null or false, and returns that. Gives up after
 * `timeoutMs` with an error that says what was awaited, for how long, the probe's last value or error, and the
 * context. Every wait of the e2e suite goes through here.
 */
export async function eventually<T>(
  probe: () => T | null | undefined | false | Promise<T | null | undefined | false>,
  opts: EventuallyOptions,
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_WAIT_MS;
  const intervalMs = opts.intervalMs ?? 50;
  const started = Date.now();
  let last: unknown;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      lastError = undefined;
      if (value !== undefined && value !== null && value !== false) return value;
      last = value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() - started >= timeoutMs) break;
    await sleep(intervalMs);
  }
  const seen = lastError !== undefined ? `the probe threw: ${describe(lastError)}` : `last probe: ${describe(last)}`;
  const context = opts.context ? `\n${opts.context()}` : '';
  throw new Error(`gave up waiting for ${opts.what} after ${Date.now() - started} ms; ${seen}${context}`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function describe(value: unknown): string {
  if (value instanceof Error) return value.stack ?? value.message;
  const text = JSON.stringify(value);
  return text && text.length > 2000 ? `${text.slice(0, 2000)}…` : String(text);
}
