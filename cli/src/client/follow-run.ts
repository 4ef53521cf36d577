import { isTerminal, type RedisClient, type RunStatus, type RunStore, type StoredRunEvent } from '@triad/shared';

/**
 * Streams a run's events to `onEvent` as they are appended, from the beginning, until the run reaches a terminal
 * status or `timeoutMs` passes. `blocking` must be a connection of its own (XREAD BLOCK holds it).
 */
export async function followRun(
  store: RunStore,
  blocking: RedisClient,
  runId: string,
  onEvent: (e: StoredRunEvent) => void,
  opts: { timeoutMs: number; signal?: AbortSignal },
): Promise<RunStatus | 'timeout' | 'aborted'> {
  const deadline = Date.now() + opts.timeoutMs;
  let last = '0';
  while (Date.now() < deadline) {
    if (opts.signal?.aborted) return 'aborted';
    const events = await store.waitForEvents(blocking, runId, last, 1_000);
    for (const e of events) {
      last = e.id;
      onEvent(e);
      if (e.type === 'status.changed' && isTerminal(e.to)) return e.to;
    }
  }
  return 'timeout';
}
