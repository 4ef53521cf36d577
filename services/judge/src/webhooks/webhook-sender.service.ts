import { Inject, Injectable, Logger } from '@nestjs/common';
import { signWebhook, TRIAD_CONFIG, type TriadConfig, WEBHOOK_HEADERS } from '@triad/shared';

/** A delivery the receiver did not accept (non-2xx), or that never reached it. */
export class WebhookDeliveryError extends Error {
  override name = 'WebhookDeliveryError';
}

/** POSTs one signed result webhook; throws on anything but a 2xx answer so BullMQ retries it. */
@Injectable()
export class WebhookSender {
  private readonly logger = new Logger('Webhooks');
  private warnedUnsigned = false;

  constructor(@Inject(TRIAD_CONFIG) private readonly config: TriadConfig) {}

  /** Sends `body` (JSON text) to `url`; returns the receiver's HTTP status. */
  async send(url: string, runId: string, body: string, signal?: AbortSignal): Promise<number> {
    const { secret, timeoutMs } = this.config.resultWebhooks;
    const timestamp = Math.floor(Date.now() / 1000);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'triad-webhooks/1',
      [WEBHOOK_HEADERS.timestamp]: String(timestamp),
      [WEBHOOK_HEADERS.event]: 'run.finished',
      [WEBHOOK_HEADERS.idempotencyKey]: runId,
    };
    if (secret) headers[WEBHOOK_HEADERS.signature] = signWebhook(secret, timestamp, body);
    else if (!this.warnedUnsigned) {
      this.warnedUnsigned = true;
      this.logger.warn('TRIAD_WEBHOOK_SECRET is not set: result webhooks are sent unsigned');
    }
    const timeout = AbortSignal.timeout(timeoutMs);
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers,
        body,
        // A redirect is not a delivery: following it could carry the result somewhere the goal did not name.
        redirect: 'manual',
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (err) {
      throw new WebhookDeliveryError(`POST ${url} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    await res.body?.cancel().catch(() => {});
    if (res.status < 200 || res.status >= 300) throw new WebhookDeliveryError(`POST ${url} answered ${res.status}`);
    return res.status;
  }
}
