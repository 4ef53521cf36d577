import { type GoalRequest, priorityOf, splitStoreRunId } from '@triad/contracts';
import type { TriadConfig } from '../config/triad-config.js';
import type { LoopHandOff } from '../loop/loop-hand-off.js';
import type { RunStore } from '../store/run-store.js';
import type { TakeState, TenantSlots } from '../store/tenant-slots.js';
import { startIteration } from './run-lineage.js';

/**
 * A tenant's cap on runs in flight, or null for none (then its runs start at once, as without tenants). A cap in the
 * tenant's own TRIAD_TENANT_LIMITS entry is taken as is; the `*` entry's cap, shared by every other tenant, is scaled
 * by the tenant's weight (its own entry's, else the `*` entry's): with `{"*": {"maxRunsInFlight": 4}, "big":
 * {"weight": 2}}` tenant `big` has 8 runs in flight at most and every other tenant 4.
 */
export function runsInFlightCap(config: Pick<TriadConfig, 'tenantLimits'>, tenant: string): number | null {
  const own = config.tenantLimits[tenant];
  const shared = config.tenantLimits['*'];
  if (own?.maxRunsInFlight != null) return own.maxRunsInFlight;
  if (shared?.maxRunsInFlight == null) return null;
  return Math.max(1, Math.round(shared.maxRunsInFlight * (own?.weight ?? shared.weight ?? 1)));
}

/**
 * Fair scheduling across tenants. A tenant with a cap on runs in flight (runsInFlightCap) has at most that many runs
 * past intake; the others wait, in phase `queued`, in order of priority then arrival, and start as its runs end. Stage
 * queues are FIFO (within a priority), so a tenant's flood holds at most its cap of runs' stages ahead of another
 * tenant's: no tenant waits behind another's backlog.
 *
 * Guarantees, as the loop's: taking a slot and releasing it are idempotent per run (scripts on the tenant's keys), a
 * run starts at most once (`queued` -> `plan` is a compare-and-set, then the plan job has a deterministic id), and a
 * process that dies between admitting a run and starting it is repaired by `sweep` (every planner, periodically),
 * which also frees the slot of an ended run whose release was lost.
 */
export class TenantScheduler {
  constructor(
    private readonly slots: TenantSlots,
    private readonly store: RunStore,
    private readonly handOff: LoopHandOff,
    private readonly config: Pick<TriadConfig, 'tenantLimits'>,
  ) {}

  /** The tenant's cap on runs in flight, or null for none. */
  capOf(tenant: string): number | null {
    return runsInFlightCap(this.config, tenant);
  }

  /**
   * Intake of a run of a capped tenant, created at (1, queued): admits and starts it, or leaves it waiting. A repeat
   * (a redelivered goal) changes nothing. Returns the run's state.
   */
  async take(runId: string, request: GoalRequest, cap: number): Promise<TakeState> {
    const { tenant } = splitStoreRunId(runId);
    const { state, admitted } = await this.slots.take(tenant, runId, cap, priorityOf(request));
    await Promise.all(admitted.filter((id) => id !== runId).map((id) => this.launch(id)));
    if (state !== 'waiting') await this.launch(runId, { waited: false });
    return state;
  }

  /** A run has ended: frees its slot (or its place in the wait) and starts the runs that take it. No-op if uncapped. */
  async release(runId: string): Promise<void> {
    const { tenant } = splitStoreRunId(runId);
    const cap = this.capOf(tenant);
    if (cap === null) return;
    const admitted = await this.slots.release(tenant, runId, cap);
    await Promise.all(admitted.map((id) => this.launch(id)));
  }

  /**
   * Repair, run periodically by every planner: fills free slots (a tenant whose cap grew or went away), starts every
   * run in flight that has not started (its starter died), and frees the slots of ended runs (a release lost).
   * Every step is idempotent, so planners may sweep at once. Returns how many runs it started or released.
   */
  async sweep(): Promise<number> {
    let repaired = 0;
    for (const tenant of await this.slots.tenants()) {
      const cap = this.capOf(tenant) ?? Number.MAX_SAFE_INTEGER;
      const filled = await this.slots.fill(tenant, cap);
      const inFlight = new Set([...(await this.slots.inFlight(tenant)), ...filled]);
      const outcomes = await Promise.all([...inFlight].map((id) => this.launch(id)));
      repaired += outcomes.filter((o) => o !== 'running').length;
    }
    return repaired;
  }

  /**
   * Starts a run that holds a slot: `queued` -> `plan` (once), then its plan job (deterministic id: a repeat adds
   * nothing). An ended or missing run gives its slot back instead. Returns what it did.
   */
  private async launch(runId: string, opts: { waited?: boolean } = {}): Promise<'started' | 'released' | 'running'> {
    const pos = await this.store.position(runId);
    if (pos.status !== 'running') {
      await this.release(runId);
      return 'released';
    }
    if (pos.phase === 'queued') {
      const now = Date.now();
      const events =
        opts.waited === false ? [] : [{ type: 'run.admitted' as const, iteration: 1, waitedMs: now - pos.createdAt }];
      const { moved, position } = await this.store.unqueue(runId, events, now);
      if (!moved && position.status !== 'running') {
        await this.release(runId);
        return 'released';
      }
      if (!moved && position.phase !== 'plan') return 'running';
    } else if (pos.phase !== 'plan' || pos.iteration !== startIteration((await this.store.get(runId))?.request)) {
      return 'running';
    }
    // The priority is in the request only: read it for the runs that start here (once per run, or per repair).
    const run = await this.store.get(runId);
    await this.handOff.plan(runId, startIteration(run?.request), priorityOf(run?.request));
    return pos.phase === 'queued' ? 'started' : 'running';
  }
}
