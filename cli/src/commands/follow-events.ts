import type { StoredRunEvent } from '@triad/shared';
import { renderEvent } from '../render/event-line.js';
import type { CommandContext } from './command.js';

/**
 * Prints a run's events as they come (the readable timeline, or JSON lines), until the run ends. With `idleMs`,
 * stops once the stream has been quiet that long: "the events so far" of a run still going. `onEvent` takes the
 * events instead of printing them.
 */
export async function followEvents(
  ctx: CommandContext,
  runId: string,
  opts: { idleMs?: number; firstIdleMs?: number; onEvent?: (e: StoredRunEvent) => void } = {},
): Promise<StoredRunEvent | null> {
  const quiet = new AbortController();
  const signal = AbortSignal.any([ctx.signal, quiet.signal]);
  let timer: NodeJS.Timeout | undefined;
  const arm = (ms: number | undefined) => {
    clearTimeout(timer);
    if (ms !== undefined) timer = setTimeout(() => quiet.abort(), ms);
  };
  arm(opts.firstIdleMs ?? opts.idleMs);
  let last: StoredRunEvent | null = null;
  try {
    for await (const e of ctx.client.events(runId, { signal })) {
      arm(opts.idleMs);
      last = e;
      if (opts.onEvent) opts.onEvent(e);
      else if (ctx.json) ctx.out(JSON.stringify(e));
      else for (const line of renderEvent(e)) ctx.out(line);
    }
  } catch (err) {
    if (!quiet.signal.aborted || ctx.signal.aborted) throw err;
  } finally {
    clearTimeout(timer);
  }
  return last;
}
