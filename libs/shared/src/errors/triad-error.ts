import type { RunErrorCode } from '@triad/contracts';
import { scrubCredentials } from './scrub-credentials.js';

/** Base of every error Triad raises on purpose: a stable code and whether trying again can help. */
export class TriadError extends Error {
  constructor(
    readonly code: RunErrorCode,
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The caller sent something Triad cannot accept; retrying the same input cannot help. */
export class InvalidInputError extends TriadError {
  constructor(message: string) {
    super('invalid_goal', message, false);
  }
}

/** The model answered something unusable (no choices, broken structure). Retrying may help. */
export class BadModelReplyError extends TriadError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('bad_model_reply', message, true, options);
  }
}

/** The model server failed after the client's own retries. */
export class ModelCallError extends TriadError {
  constructor(message: string, retryable: boolean, options?: { cause?: unknown }) {
    super('model_error', message, retryable, options);
  }
}

/**
 * The model server said 429: slow down. Not retried inside the client: the processor pauses its whole queue for
 * `retryAfterMs` (every replica), then the step runs again without using up an attempt.
 */
export class ModelRateLimitedError extends ModelCallError {
  constructor(
    message: string,
    readonly retryAfterMs: number,
    options?: { cause?: unknown },
  ) {
    super(message, true, options);
  }
}

/** The model declined to answer (`message.refusal`). The same conversation would be declined again. */
export class ModelRefusalError extends TriadError {
  constructor(refusal: string) {
    super('model_refused', `the model refused: ${refusal.slice(0, 500)}`, false);
  }
}

/** The configuration is unusable; the service must not start. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Short, single-line description of any thrown value, for run records and logs. */
export function describeError(err: unknown): string {
  const text = err instanceof Error ? `${err.name === 'Error' ? '' : `${err.name}: `}${err.message}` : String(err);
  return scrubCredentials(text).slice(0, 2000);
}

/** A model call was refused by its tenant's daily spend cap (TRIAD_TENANT_LIMITS): the run ends budget_exceeded. */
export class TenantLimitError extends TriadError {
  constructor(message: string) {
    super('budget_exceeded', message, false);
  }
}

/**
 * A model call would fit its tenant's daily spend cap only once calls in flight settle: the stage waits (parked) and
 * tries again.
 */
export class TenantSpendBusyError extends TriadError {
  constructor(message: string) {
    super('budget_exceeded', message, true);
  }
}
