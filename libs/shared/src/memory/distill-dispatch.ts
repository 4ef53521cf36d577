import { JOB_NAMES, jobIds, MAX_PRIORITY, type RunEvent, type RunRecord } from '@triad/contracts';
import type { JobsOptions, Queue } from 'bullmq';
import type { TriadConfig } from '../config/triad-config.js';
import { addJob } from '../queue/typed-job.js';
import type { RunStore } from '../store/run-store.js';
import { learnEnabled } from './memory-switches.js';

/** A distillation waits behind every waiting stage of a live run on the `judge` queue (their priorities are 1..10). */
export const DISTILL_PRIORITY = MAX_PRIORITY + 1;

/**
 * Whether an ended run may teach something, from its record alone: it ended (not cancelled: a caller stopped it, it
 * did not fail), it ran a goal that was taken in (not one rejected at intake), it is not a replay (its lessons were
 * learned from the recorded run), learning is on for its goal and its tenant, and it is not a smooth success in one
 * iteration (an answer accepted at once: nothing failed, nothing was sent back, so no model call is spent on it).
 * Whether it did teach something is read from its events (somethingToLearn).
 */
export function mayLearnFrom(run: RunRecord, config: Pick<TriadConfig, 'tenantLimits'>): boolean {
  const request = run.request;
  if (!request || request.replayOf) return false;
  if (run.status === 'running' || run.status === 'cancelled') return false;
  if (run.status === 'succeeded' && run.iteration <= 1) return false;
  return learnEnabled(config, run.tenant, request);
}

/**
 * Why an ended run is worth a model call (null: it is not): it did not succeed, a tool call failed, the judge sent an
 * answer back, or the judge critiqued an iteration (a model critique, or an automatic check that found a problem).
 */
export function somethingToLearn(run: RunRecord, events: readonly RunEvent[]): string | null {
  if (run.status !== 'succeeded') return `the run ${run.status}`;
  if (events.some((e) => e.type === 'observation' && !e.observation.ok)) return 'a tool call failed';
  if (events.some((e) => e.type === 'verdict' && e.decision === 'reject')) return 'the judge sent an answer back';
  if (events.some((e) => e.type === 'reflection' && e.text.trim())) return 'the judge critiqued an iteration';
  return null;
}

/**
 * Enqueues the distillation of an ended run: a `distill` job on the `judge` queue whose id comes from the run id, so
 * a redelivered ending (every ending is published again on a redelivery) enqueues it once. A run that succeeded gets
 * one only when its events show something to learn (one read of its event stream), so a smooth run costs no job.
 */
export class DistillDispatch {
  constructor(
    private readonly judge: Queue,
    private readonly store: RunStore,
    private readonly config: Pick<TriadConfig, 'tenantLimits'>,
    private readonly jobDefaults: JobsOptions = {},
  ) {}

  async ended(run: RunRecord): Promise<boolean> {
    if (!mayLearnFrom(run, this.config)) return false;
    if (run.status === 'succeeded' && !somethingToLearn(run, await this.store.events(run.id))) return false;
    const opts = { ...this.jobDefaults, priority: DISTILL_PRIORITY, jobId: jobIds.distill(run.id) };
    await addJob(this.judge, JOB_NAMES.distill, { runId: run.id }, opts);
    return true;
  }
}
