import type { z } from 'zod';

/** An answer of the gateway that is not 2xx, in the API's error shape when it has one. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly issues: { path: string; message: string }[] = [],
  ) {
    super(message);
  }
}

type Method = 'GET' | 'POST' | 'DELETE';

/** Listeners told when any call answers 401: the session has ended. */
const signedOut = new Set<() => void>();
export const onSignedOut = (fn: () => void) => {
  signedOut.add(fn);
  return () => signedOut.delete(fn);
};

/**
 * Calls the gateway on the page's own origin with the session cookie, and parses the answer with the contract's
 * schema. State-changing calls are JSON, which the gateway asks of a cookie-authenticated request.
 */
export async function call<S extends z.ZodType>(
  method: Method,
  path: string,
  schema: S | null,
  body?: unknown,
): Promise<z.infer<S>> {
  const res = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: method === 'GET' ? { accept: 'application/json' } : { 'content-type': 'application/json' },
    body: method === 'GET' ? undefined : JSON.stringify(body ?? {}),
  });
  if (!res.ok) {
    const e = await res.json().catch(() => null);
    if (res.status === 401) for (const fn of signedOut) fn();
    throw new HttpError(
      res.status,
      e?.error?.code ?? 'http_error',
      e?.error?.message ?? `HTTP ${res.status}`,
      e?.error?.issues ?? [],
    );
  }
  if (!schema || res.status === 204) return undefined as z.infer<S>;
  return schema.parse(await res.json());
}

/** A message for an error of a call, for the page to show. */
export const messageOf = (err: unknown) =>
  err instanceof HttpError
    ? `${err.message}${err.issues.length ? `: ${err.issues.map((i) => `${i.path} ${i.message}`).join('; ')}` : ''}`
    : String((err as Error)?.message ?? err);
