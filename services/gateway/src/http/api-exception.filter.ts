import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { type ApiError, describeError } from '@triad/shared';
import type { Response } from 'express';

const CODE_BY_STATUS: Record<number, ApiError['error']['code']> = {
  400: 'invalid_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'too_many_requests',
  503: 'service_unavailable',
};

/**
 * Answers every error in the API's shape, including those raised before routing: the body parser's
 * (malformed JSON: 400, too large: 413) and Nest's own (unknown route: 404).
 */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Gateway');

  catch(err: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    if (res.headersSent) {
      res.end();
      return;
    }
    const { status, body } = this.toAnswer(err);
    // A 503 is the capacity guard refusing intake on purpose (logged once when it pauses), not a fault.
    if (status >= 500 && status !== 503) this.logger.error(describeError(err));
    res.status(status).json(body);
  }

  private toAnswer(err: unknown): { status: number; body: ApiError } {
    if (err instanceof HttpException) {
      const status = err.getStatus();
      const response = err.getResponse();
      if (typeof response === 'object' && response && 'error' in response && typeof response.error === 'object') {
        return { status, body: response as ApiError };
      }
      return { status, body: this.body(status, err.message) };
    }
    // body-parser errors carry an HTTP status and a `type`; their messages are safe to show.
    const e = err as { status?: number; type?: string; message?: string };
    if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
      const message =
        e.type === 'entity.parse.failed'
          ? `malformed JSON: ${e.message}`
          : e.type === 'entity.too.large'
            ? 'request body is too large'
            : (e.message ?? 'bad request');
      return { status: e.status, body: this.body(e.status, message) };
    }
    return { status: 500, body: this.body(500, 'internal error') };
  }

  private body(status: number, message: string): ApiError {
    return { error: { code: CODE_BY_STATUS[status] ?? (status < 500 ? 'invalid_request' : 'internal'), message } };
  }
}
