import type { RunPhase, RunStatus } from '@triad/contracts';

/** The stages of one iteration, in order; each is one job on its own queue. */
export type Stage = 'plan' | 'act' | 'judge';

/**
 * What a delivered stage job does, given where its run is:
 * - `proceed`: the run is where this stage expects it; do the stage (or finish recording it);
 * - `repeat-hand-off`: the stage was done and the run moved on, but the process may have died before handing the
 *   next stage its job: hand it off again (deterministic job ids make this a no-op when it happened);
 * - `duplicate`: an old or early delivery; do nothing;
 * - `ended`: the run is over; make sure its result is published;
 * - `missing`: there is no such run.
 */
export type Admit = 'proceed' | 'repeat-hand-off' | 'duplicate' | 'ended' | 'missing';

/** Where a run stands: its status, iteration and phase. */
export interface Position {
  status: RunStatus;
  iteration: number;
  phase: RunPhase;
}

/**
 * The loop's admission rule, one place for every stage. A plan job of iteration i runs at (i, plan) and was handed
 * off once the run is at (i, act) or (i, judge); a judge job of iteration i runs at (i, act) or (i, judge) and was
 * handed off once the run is at (i + 1, plan). Tool steps run whenever their run exists: each is admitted against the
 * run's budget and recorded once in the ledger, which refuses a step of an ended run.
 */
export function admitStage(stage: Stage, iteration: number, run: Position | null): Admit {
  if (!run) return 'missing';
  if (stage === 'act') return 'proceed';
  if (run.status !== 'running') return 'ended';
  const at = (i: number, ...phases: RunPhase[]) => run.iteration === i && phases.includes(run.phase);
  if (stage === 'plan') {
    if (at(iteration, 'plan')) return 'proceed';
    if (at(iteration, 'act', 'judge')) return 'repeat-hand-off';
    return 'duplicate';
  }
  if (at(iteration, 'act', 'judge')) return 'proceed';
  if (at(iteration + 1, 'plan')) return 'repeat-hand-off';
  return 'duplicate';
}

/** The phases a stage finds its run in when it proceeds (what its write compares and sets against). */
export const STAGE_PHASES: Record<Exclude<Stage, 'act'>, RunPhase[]> = { plan: ['plan'], judge: ['act', 'judge'] };
