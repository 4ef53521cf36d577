import { ApprovalDecision, type ApprovalRecord, type ApprovalDecision as DecisionInput } from '@triad/contracts';
import { InvalidInputError } from '../errors/triad-error.js';
import type { LoopHandOff } from '../loop/loop-hand-off.js';
import type { ApprovalStore } from '../store/approval-store.js';
import type { ApprovalNotifier } from './approval-notifier.js';

/** Thrown when an approval does not exist or has been decided already. */
export class ApprovalNotPendingError extends InvalidInputError {}

/**
 * The approval API for people and the systems that stand in for them (gateway, CLI): list pending gates,
 * approve (optionally with edited arguments), reject with a reason. A decision wakes the parked step at once.
 */
export class Approvals {
  constructor(
    private readonly store: ApprovalStore,
    private readonly handOff: Pick<LoopHandOff, 'wake'>,
    /** Pushes `approval.decided` (the executor sends it again when it meets the decided gate, should this be lost). */
    private readonly notifier?: Pick<ApprovalNotifier, 'decided'>,
  ) {}

  /** A tenant's pending approvals, soonest deadline first; `runId` (a store id) narrows to one run. */
  listPending(tenant: string, opts: { runId?: string; limit?: number } = {}): Promise<ApprovalRecord[]> {
    return this.store.listPending(tenant, opts);
  }

  /** The approval with this public id (from a listing or an `approval.requested` event), or null. */
  get(runId: string, approvalId: string): Promise<ApprovalRecord | null> {
    return this.store.find(runId, approvalId);
  }

  /** Records a decision and wakes the step; throws ApprovalNotPendingError if there is nothing to decide. */
  async decide(runId: string, approvalId: string, input: DecisionInput): Promise<ApprovalRecord> {
    const d = ApprovalDecision.parse(input);
    const outcome =
      d.decision === 'approve'
        ? { status: 'approved' as const, by: d.by, editedArguments: d.arguments }
        : { status: 'rejected' as const, by: d.by, reason: d.reason };
    const found = await this.store.find(runId, approvalId);
    if (!found) throw new ApprovalNotPendingError(`no approval ${approvalId} in run ${runId}`);
    if (!(await this.store.decide(runId, found.stepId, outcome))) {
      const current = await this.store.get(runId, found.stepId);
      throw new ApprovalNotPendingError(`approval ${approvalId} of run ${runId} is already ${current?.status}`);
    }
    await this.notifier?.decided(runId, found.stepId);
    await this.wake(runId, found.stepId);
    return (await this.store.get(runId, found.stepId)) as ApprovalRecord;
  }

  approve(runId: string, approvalId: string, by: string, editedArguments: string | null = null) {
    return this.decide(runId, approvalId, { decision: 'approve', by, arguments: editedArguments });
  }

  reject(runId: string, approvalId: string, by: string, reason = 'rejected') {
    return this.decide(runId, approvalId, { decision: 'reject', by, reason });
  }

  /** Moves a parked step from delayed to waiting; a no-op when it is not parked (yet, or any more). */
  wake(runId: string, stepId: string): Promise<void> {
    return this.handOff.wake(runId, stepId);
  }
}
