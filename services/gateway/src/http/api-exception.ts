import { HttpException } from '@nestjs/common';
import type { ApiError } from '@triad/shared';
import type { z } from 'zod';

type Code = ApiError['error']['code'];
type Issue = { path: string; message: string };

const STATUS: Record<Code, number> = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  too_many_requests: 429,
  internal: 500,
  service_unavailable: 503,
};

/** An error answer in the API's one shape: `{ error: { code, message, issues? } }`. */
export class ApiException extends HttpException {
  constructor(code: Code, message: string, issues?: Issue[]) {
    super({ error: { code, message, ...(issues ? { issues } : {}) } } satisfies ApiError, STATUS[code]);
  }
}

/** Parses `input` with `schema`, or throws a 400 naming the path of every bad field. */
export function parseOr400<S extends z.ZodType>(schema: S, input: unknown, what = 'request body'): z.infer<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => ({ path: i.path.join('.') || '(root)', message: i.message }));
  throw new ApiException('invalid_request', `invalid ${what}`, issues);
}
