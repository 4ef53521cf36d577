/** Why an outgoing request was not made or did not complete. */
export type EgressFailure =
  | 'invalid_url'
  | 'blocked_address'
  | 'unresolved'
  | 'timeout'
  | 'too_large'
  | 'too_many_redirects'
  | 'network';

/**
 * A failure of the guarded HTTP client, meant to be shown to whoever asked for the request (the model, as a tool
 * observation); `retryable` says whether the same request may succeed later.
 */
export class EgressError extends Error {
  override readonly name = 'EgressError';
  readonly retryable: boolean;

  constructor(
    readonly failure: EgressFailure,
    message: string,
    opts: { retryable?: boolean; cause?: unknown } = {},
  ) {
    super(message, { cause: opts.cause });
    this.retryable = opts.retryable ?? false;
  }
}
