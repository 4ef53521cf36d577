import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  EgressError,
  guardedRequest,
  type HttpPolicy,
  SsrfGuard,
  signWebhook,
  TRIAD_CONFIG,
  type TriadConfig,
  WEBHOOK_HEADERS,
  type WebhookFailureCode,
} from '@triad/shared';
import { UnrecoverableError } from 'bullmq';

/** A delivery the receiver did not accept (non-2xx), that never reached it, or that was refused before dialling. */
/** What a delivery job fails with: a refused target stays refused, with no retries that would only knock on it again. */
export function deliveryJobError(err: unknown): unknown {
  return err instanceof WebhookDeliveryError && !err.retryable ? new UnrecoverableError(err.message) : err;
}

export class WebhookDeliveryError extends Error {
  override name = 'WebhookDeliveryError';

  constructor(
    readonly code: WebhookFailureCode,
    message: string,
    /** False when trying again cannot help: the target is refused whatever happens. */
    readonly retryable = true,
  ) {
    super(message);
  }
}

/**
 * POSTs one signed webhook (a run's result, or an approval push) through the guarded HTTP client the HTTP tools use (resolve, check, pin), with
 * its own allow-list (TRIAD_WEBHOOK_ALLOW_HOSTS); throws on anything but a 2xx answer so BullMQ retries it.
 */
@Injectable()
export class WebhookSender {
  private readonly logger = new Logger('Webhooks');
  private readonly guard: SsrfGuard;
  private readonly policy: HttpPolicy;
  private warnedUnsigned = false;

  constructor(@Inject(TRIAD_CONFIG) private readonly config: TriadConfig) {
    const { allowHosts, timeoutMs } = config.resultWebhooks;
    this.guard = new SsrfGuard(allowHosts, undefined, 'TRIAD_WEBHOOK_ALLOW_HOSTS');
    this.policy = { allowHosts, timeoutMs, maxBytes: 0 };
  }

  /**
   * Sends `body` (JSON text) to `url` as `event` (the Triad-Event header), with the Idempotency-Key receivers dedupe
   * on; returns the receiver's HTTP status.
   */
  async send(
    url: string,
    delivery: { event: string; idempotencyKey: string },
    body: string,
    signal?: AbortSignal,
  ): Promise<number> {
    const { secret } = this.config.resultWebhooks;
    const timestamp = Math.floor(Date.now() / 1000);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'triad-webhooks/1',
      [WEBHOOK_HEADERS.timestamp]: String(timestamp),
      [WEBHOOK_HEADERS.event]: delivery.event,
      [WEBHOOK_HEADERS.idempotencyKey]: delivery.idempotencyKey,
    };
    if (secret) headers[WEBHOOK_HEADERS.signature] = signWebhook(secret, timestamp, body);
    else if (!this.warnedUnsigned) {
      this.warnedUnsigned = true;
      this.logger.warn('TRIAD_WEBHOOK_SECRET is not set: webhooks are sent unsigned');
    }
    let status: number;
    try {
      const res = await guardedRequest(
        this.guard,
        this.policy,
        // A redirect is not a delivery: following it could carry the result somewhere the goal did not name.
        { method: 'POST', url, headers, body: Buffer.from(body), maxRedirects: 0, readBody: false },
        signal ?? new AbortController().signal,
      );
      status = res.status;
    } catch (err) {
      throw deliveryError(err, url);
    }
    if (status < 200 || status >= 300) throw new WebhookDeliveryError('http_status', `POST ${url} answered ${status}`);
    return status;
  }
}

// A refused target is reported in the guard's words only: nothing about what answered there, as nothing was asked.
function deliveryError(err: unknown, url: string): WebhookDeliveryError {
  if (!(err instanceof EgressError)) {
    return new WebhookDeliveryError('unreachable', `POST ${url} failed: ${String(err)}`);
  }
  if (err.failure === 'blocked_address') return new WebhookDeliveryError('blocked_address', err.message, false);
  if (err.failure === 'invalid_url') return new WebhookDeliveryError('invalid_url', err.message, false);
  return new WebhookDeliveryError('unreachable', `POST ${url} failed: ${err.message}`);
}
