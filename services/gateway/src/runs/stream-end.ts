import { isTerminal, type RunRecord, type TriadConfig } from '@triad/shared';

const SLACK_MS = 5_000;
const MAX_WAIT_MS = 15 * 60_000;

/**
 * How long after a run's end its stream waits for the result webhook's outcome: every attempt timing out and every
 * exponential backoff between them (BullMQ doubles the delay from `backoffMs`), plus slack; 15 minutes at most.
 */
export function webhookWaitMs(w: TriadConfig['resultWebhooks']): number {
  const backoffs = w.backoffMs * (2 ** (w.attempts - 1) - 1);
  return Math.min(w.attempts * w.timeoutMs + backoffs + SLACK_MS, MAX_WAIT_MS);
}

/**
 * Whether a run's event stream is complete, given the run and its webhook outcome as they were read BEFORE the
 * stream sent every event there was (so the events that made them so have been sent): the run has ended, and its
 * result webhook is not due (no callbackUrl), or its outcome (`webhook.delivered` / `webhook.failed`) is recorded,
 * or it is overdue by `waitMs` after the end.
 */
export function streamComplete(run: RunRecord | null, outcomeRecorded: boolean, waitMs: number, now: number): boolean {
  if (!run || !isTerminal(run.status)) return false;
  if (!run.request?.callbackUrl || outcomeRecorded) return true;
  return now >= (run.finishedAt ?? run.updatedAt) + waitMs;
}
