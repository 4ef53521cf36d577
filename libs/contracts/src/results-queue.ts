import { z } from 'zod';
import { QUEUES } from './queues.js';
import { TENANT_PATTERN } from './run-id.js';

/** A producer's name for its own results queue (GoalRequest.resultsQueue): no `.`, `:`, `{`, `~` or anything exotic. */
export const RESULTS_QUEUE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
export const ResultsQueueName = z
  .string()
  .regex(
    RESULTS_QUEUE_PATTERN,
    'must be 1-64 characters of letters, digits, "_" or "-", starting with a letter or digit',
  );

/**
 * The BullMQ queue a run's `run.finished` goes to: `results.<tenant>.<resultsQueue>` when its goal named one, else the
 * shared `results`. The tenant is the run's own (for HTTP callers, the API key's), so no caller can put results in
 * another tenant's queue, nor in any queue Triad reads (their names have no `.`).
 */
export function resultsQueueOf(tenant: string, resultsQueue?: string | null): string {
  return resultsQueue ? `${QUEUES.results}.${tenant}.${resultsQueue}` : QUEUES.results;
}

const OWN_RESULTS = new RegExp(
  `^${QUEUES.results}\\.${TENANT_PATTERN.source.slice(1, -1)}\\.${RESULTS_QUEUE_PATTERN.source.slice(1, -1)}$`,
);

/** Whether a queue name is the shared results queue or one of `resultsQueueOf`'s. */
export const isResultsQueue = (name: string): boolean => name === QUEUES.results || OWN_RESULTS.test(name);

/** The resultsQueue a goal job's raw data names, when it is a valid name (a rejected goal's result goes there too). */
export function resultsQueueOfGoalData(data: unknown): string | undefined {
  const q = (data as { resultsQueue?: unknown } | null)?.resultsQueue;
  return typeof q === 'string' && RESULTS_QUEUE_PATTERN.test(q) ? q : undefined;
}
