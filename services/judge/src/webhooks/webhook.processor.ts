import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger } from '@nestjs/common';
import {
  describeError,
  isFinalFailure,
  isTerminal,
  JOB_NAMES,
  WEBHOOK_OUTCOME_KEY as OUTCOME_KEY,
  parseJob,
  QUEUES,
  RunStore,
  toRunFinished,
  WebhookOutcome,
  WORKER_OPTIONS,
} from '@triad/shared';
import type { Job } from 'bullmq';
import { ApprovalWebhookService } from './approval-webhook.service.js';
import { deliveryJobError, WebhookDeliveryError, WebhookSender } from './webhook-sender.service.js';

/**
 * Consumes the `webhooks` queue: `deliver` POSTs the finished run to its goal's `callbackUrl`, `approval` a gate's
 * transition to TRIAD_APPROVAL_WEBHOOK_URL (ApprovalWebhookService); BullMQ retries with backoff.
 */
@Processor(QUEUES.webhooks, WORKER_OPTIONS)
export class WebhookProcessor extends WorkerHost {
  private readonly logger = new Logger('Webhooks');

  constructor(
    private readonly store: RunStore,
    private readonly sender: WebhookSender,
    private readonly approvalPush: ApprovalWebhookService,
  ) {
    super();
  }

  async process(job: Job, _token?: string, signal?: AbortSignal): Promise<string> {
    if (job.name === JOB_NAMES.approvalWebhook) {
      return this.approvalPush.deliver(job, parseJob(JOB_NAMES.approvalWebhook, job), signal);
    }
    const { runId } = parseJob(JOB_NAMES.webhook, job);
    const run = await this.store.get(runId);
    const url = run?.request?.callbackUrl;
    if (!run || !url || !isTerminal(run.status)) return 'nothing to deliver';
    // A redelivered job after a recorded success (or final failure) must not post again.
    const done = await this.store.getOnce(runId, OUTCOME_KEY, WebhookOutcome);
    if (done) return done.delivered ? 'delivered' : 'failed';
    const attempts = job.attemptsMade + 1;
    try {
      const delivery = { event: JOB_NAMES.runFinished, idempotencyKey: runId };
      const status = await this.sender.send(url, delivery, JSON.stringify(toRunFinished(run)), signal);
      await this.store.once(runId, OUTCOME_KEY, WebhookOutcome, { delivered: true, attempts }, [
        { type: 'webhook.delivered', iteration: run.iteration, url, attempts, status },
      ]);
      return 'delivered';
    } catch (err) {
      const thrown = deliveryJobError(err);
      if (isFinalFailure(job, thrown)) {
        const error = describeError(err);
        const code = err instanceof WebhookDeliveryError ? err.code : 'unreachable';
        this.logger.warn(`webhook of run ${runId} failed for good after ${attempts} attempts: ${error}`);
        await this.store.once(runId, OUTCOME_KEY, WebhookOutcome, { delivered: false, attempts }, [
          { type: 'webhook.failed', iteration: run.iteration, url, attempts, code, error },
        ]);
      }
      throw thrown;
    }
  }
}
