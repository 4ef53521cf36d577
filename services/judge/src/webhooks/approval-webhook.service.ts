import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  type ApprovalRecord,
  ApprovalStore,
  type ApprovalWebhookJob,
  ApprovalWebhookPayload,
  approvalWebhookOnceKey,
  isFinalFailure,
  jobIds,
  REDACTED,
  RunStore,
  redactArguments,
  splitStoreRunId,
  ToolCatalog,
  TRIAD_CONFIG,
  type TriadConfig,
  WebhookOutcome,
} from '@triad/shared';
import type { Job } from 'bullmq';
import { deliveryJobError, WebhookSender } from './webhook-sender.service.js';

/**
 * Approval push: POSTs a gate's `approval.requested` / `approval.decided` to TRIAD_APPROVAL_WEBHOOK_URL, signed and
 * guarded as result webhooks are. The outcome is recorded once in the run, so a redelivered or re-added job posts
 * nothing more; a failure is logged (approval pushes add no run events: a run's stream is about the run).
 */
@Injectable()
export class ApprovalWebhookService {
  private readonly logger = new Logger('ApprovalWebhooks');

  constructor(
    private readonly runs: RunStore,
    private readonly approvals: ApprovalStore,
    private readonly catalog: ToolCatalog,
    private readonly sender: WebhookSender,
    @Inject(TRIAD_CONFIG) private readonly config: TriadConfig,
  ) {}

  async deliver(job: Job, data: ApprovalWebhookJob, signal?: AbortSignal): Promise<string> {
    const url = this.config.approval.webhookUrl;
    const { runId, stepId, event } = data;
    const gate = await this.approvals.get(runId, stepId);
    if (!url || !gate || (event === 'approval.decided' && gate.status === 'pending')) return 'nothing to deliver';
    const key = approvalWebhookOnceKey(stepId, event);
    const done = await this.runs.getOnce(runId, key, WebhookOutcome);
    if (done) return done.delivered ? 'delivered' : 'failed';
    const attempts = job.attemptsMade + 1;
    const body = JSON.stringify(await this.payload(gate, event));
    try {
      const idempotencyKey = jobIds.approvalWebhook(runId, stepId, event);
      await this.sender.send(url, { event, idempotencyKey }, body, signal);
      await this.runs.once(runId, key, WebhookOutcome, { delivered: true, attempts });
      return 'delivered';
    } catch (err) {
      const thrown = deliveryJobError(err);
      if (isFinalFailure(job, thrown)) {
        this.logger.warn(`${event} of ${gate.id} in run ${runId} failed for good after ${attempts} attempts: ${err}`);
        await this.runs.once(runId, key, WebhookOutcome, { delivered: false, attempts });
      }
      throw thrown;
    }
  }

  private async payload(gate: ApprovalRecord, event: ApprovalWebhookJob['event']): Promise<ApprovalWebhookPayload> {
    const { tenant, runId } = splitStoreRunId(gate.runId);
    const decided = event === 'approval.decided' && gate.status !== 'pending';
    return ApprovalWebhookPayload.parse({
      event,
      runId,
      tenant,
      approvalId: gate.id,
      stepId: gate.stepId,
      iteration: gate.iteration,
      tool: gate.tool,
      risk: gate.risk,
      arguments: gate.arguments, // redacted when the gate was opened
      argumentsHash: gate.argumentsHash,
      requestedBy: gate.requestedBy,
      requestedAt: gate.requestedAt,
      expiresAt: gate.expiresAt,
      decision: decided ? gate.status : null,
      decidedBy: decided ? gate.decidedBy : null,
      decidedAt: decided ? gate.decidedAt : null,
      reason: decided ? gate.reason : null,
      editedArguments: decided ? await this.shownEdit(gate) : null,
      consoleUrl: `${this.config.consoleUrl}/runs/${encodeURIComponent(runId)}`,
    });
  }

  // The approver's edit may carry a secret of their own: shown as the approval API shows it (redacted), and withheld
  // whole when the tool's secret arguments cannot be known.
  private async shownEdit(gate: ApprovalRecord): Promise<string | null> {
    if (gate.editedArguments === null) return null;
    const tool = (await this.catalog.list()).find((t) => t.name === gate.tool);
    return tool ? redactArguments(gate.editedArguments, tool.secretArguments) : REDACTED;
  }
}
