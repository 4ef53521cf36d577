import { ApiError } from '@triad/contracts';

/** The API's error codes, plus `invalid_response` for an answer that is not the API's shape. */
export type TriadApiErrorCode = ApiError['error']['code'] | 'invalid_response';

export interface ApiIssue {
  path: string;
  message: string;
}

/** A non-2xx answer of the gateway (or an answer that does not parse): status, stable code, message, field issues. */
export class TriadApiError extends Error {
  override name = 'TriadApiError';

  constructor(
    readonly status: number,
    readonly code: TriadApiErrorCode,
    message: string,
    readonly issues: ApiIssue[] = [],
  ) {
    super(message);
  }

  /** Builds the error from a response whose body was already read as text. */
  static fromBody(status: number, statusText: string, text: string): TriadApiError {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const parsed = ApiError.safeParse(json);
    if (parsed.success) {
      const e = parsed.data.error;
      return new TriadApiError(status, e.code, e.message, e.issues ?? []);
    }
    const detail = text.trim().slice(0, 200) || statusText || 'no body';
    return new TriadApiError(status, 'invalid_response', `HTTP ${status}: ${detail}`);
  }

  /** The message with each field issue appended, for one-line reports. */
  describe(): string {
    if (!this.issues.length) return this.message;
    return `${this.message} (${this.issues.map((i) => `${i.path}: ${i.message}`).join('; ')})`;
  }
}

/** The gateway could not be reached, or the connection broke before an answer arrived. */
export class TriadConnectionError extends Error {
  override name = 'TriadConnectionError';
}

/** `waitFor` gave up before the run ended. */
export class TriadTimeoutError extends Error {
  override name = 'TriadTimeoutError';
}
