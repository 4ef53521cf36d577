import { type ApprovalWebhookEvent, JOB_NAMES, jobIds } from '@triad/contracts';
import type { Queue } from 'bullmq';
import { addJob } from '../queue/typed-job.js';

/**
 * Enqueues the approval push (TRIAD_APPROVAL_WEBHOOK_URL) of a gate's transitions on the `webhooks` queue. Called
 * by whoever performs a transition and again by whoever later sees it done (the executor, each time it meets the
 * gate), so a crash between the state change and the enqueue is repaired; the job id, one per (run, step, event),
 * makes every repeat a no-op, and the delivery records its outcome once in the run (see the judge's processor).
 */
export class ApprovalNotifier {
  constructor(
    /** The webhooks queue; none when no TRIAD_APPROVAL_WEBHOOK_URL is set (then nothing is sent). */
    private readonly queue: Queue | undefined,
    private readonly delivery: { attempts: number; backoffMs: number },
  ) {}

  get enabled(): boolean {
    return this.queue !== undefined;
  }

  requested(runId: string, stepId: string): Promise<void> {
    return this.notify(runId, stepId, 'approval.requested');
  }

  decided(runId: string, stepId: string): Promise<void> {
    return this.notify(runId, stepId, 'approval.decided');
  }

  private async notify(runId: string, stepId: string, event: ApprovalWebhookEvent): Promise<void> {
    if (!this.queue) return;
    const { attempts, backoffMs } = this.delivery;
    await addJob(
      this.queue,
      JOB_NAMES.approvalWebhook,
      { runId, stepId, event },
      {
        jobId: jobIds.approvalWebhook(runId, stepId, event),
        attempts,
        backoff: { type: 'exponential', delay: backoffMs },
      },
    );
  }
}
