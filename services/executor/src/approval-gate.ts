import { Inject, Injectable } from '@nestjs/common';
import {
  ApprovalNotifier,
  type ApprovalRecord,
  ApprovalStore,
  Approvals,
  type Observation,
  observationError,
  type RunRecord,
  redactArguments,
  restoreRedacted,
  type StageContext,
  type ToolCall,
  type ToolRisk,
  TRIAD_CONFIG,
  type TriadConfig,
} from '@triad/shared';

export type GateResult = { pass: true; arguments: string } | { pass: false; observation: Observation };

/**
 * The approval gate, enforced here whatever the model or the goal says: the server policy names the risk levels
 * that need a human, a goal may add levels but never remove any. A gated step waits as a delayed job (no worker
 * slot held) until a decision promotes it or its deadline passes, which resolves to the safe outcome.
 */
@Injectable()
export class ApprovalGate {
  constructor(
    private readonly store: ApprovalStore,
    private readonly approvals: Approvals,
    private readonly notifier: ApprovalNotifier,
    @Inject(TRIAD_CONFIG) private readonly config: TriadConfig,
  ) {}

  /** Whether a call of this risk needs a human decision in this run. */
  requires(risk: ToolRisk, run: RunRecord): boolean {
    return this.config.approval.risks.includes(risk) || (run.request?.requireApproval ?? []).includes(risk);
  }

  /** Opens the gate (once), parks the job while it is pending, and turns the decision into a go or an observation. */
  async pass(
    ctx: StageContext,
    run: RunRecord,
    call: ToolCall,
    tool: { risk: ToolRisk; secretArguments: string[] },
  ): Promise<GateResult> {
    const { risk, secretArguments } = tool;
    const now = Date.now();
    let approval =
      (await this.store.get(run.id, call.stepId)) ??
      (await this.store.request({
        runId: run.id,
        iteration: Number(call.stepId.split('-')[0]),
        stepId: call.stepId,
        callId: call.callId,
        tool: call.tool,
        risk,
        // What the approver sees: secret arguments redacted (the call itself still gets them).
        arguments: redactArguments(call.arguments, secretArguments),
        requestedBy: 'planner',
        requestedAt: now,
        expiresAt: now + Math.min(this.config.approval.timeoutMs, run.request?.approvalTimeoutMs ?? Infinity),
      }));
    // Every time the gate is met (a redelivery too): a push lost to a crash after the state change is sent now.
    await this.notifier.requested(run.id, call.stepId);
    if (approval.status === 'pending' && Date.now() < approval.expiresAt) await this.park(ctx, approval);
    if (approval.status === 'pending') {
      const reason = `no decision within ${Math.round((approval.expiresAt - approval.requestedAt) / 1000)} s`;
      await this.store.decide(run.id, call.stepId, { status: 'expired', by: 'triad', reason });
      approval = (await this.store.get(run.id, call.stepId)) as ApprovalRecord;
    }
    await this.notifier.decided(run.id, call.stepId);
    return outcome(approval, call, secretArguments);
  }

  // Parks the step until its deadline. A decision that lands between opening the gate and parking would find
  // nothing to promote, so the gate is read again once parked.
  private park(ctx: StageContext, approval: ApprovalRecord): Promise<never> {
    const until = new Date(approval.expiresAt).toISOString();
    return ctx.park(approval.expiresAt, `waiting for approval ${approval.id} until ${until}`, async () => {
      const now = await this.store.get(approval.runId, approval.stepId);
      if (now && now.status !== 'pending') await this.approvals.wake(approval.runId, approval.stepId);
    });
  }
}

function outcome(a: ApprovalRecord, call: ToolCall, secrets: string[]): GateResult {
  switch (a.status) {
    case 'approved':
      // The approver saw secrets as [redacted]; an edit that left one so keeps the model's value.
      return {
        pass: true,
        arguments:
          a.editedArguments === null ? call.arguments : restoreRedacted(a.editedArguments, call.arguments, secrets),
      };
    case 'rejected':
      return {
        pass: false,
        observation: observationError('rejected', `${a.decidedBy} rejected this call: ${a.reason}`),
      };
    default:
      return {
        pass: false,
        observation: observationError('approval_expired', `Approval expired (${a.reason}); the call was not made`),
      };
  }
}
