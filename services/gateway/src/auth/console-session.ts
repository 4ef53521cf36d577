import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import type { ApiKeys, Caller } from './api-keys.js';

/** The console's session cookie: HttpOnly (no script reads it), SameSite=Strict, a browser-session cookie. */
export const SESSION_COOKIE = 'triad_session';

/** A session is refused this long after sign-in even if the browser keeps it (a browser "restoring" tabs does). */
const MAX_AGE_MS = 12 * 60 * 60_000;

const b64 = (s: string) => Buffer.from(s).toString('base64url');

/**
 * Signs and checks console sessions. The cookie holds `<key name>.<issued at>.<mac>`, the mac keyed by the API key
 * itself (hashed): any gateway replica with the same keys accepts it, nothing in it reveals the key, and a key taken
 * out of TRIAD_API_KEYS ends its sessions at once.
 */
export class ConsoleSessions {
  constructor(private readonly keys: ApiKeys) {}

  /** The cookie value for a signed-in caller. */
  issue(caller: Caller, now = Date.now()): string {
    const body = `${b64(caller.name)}.${now.toString(36)}`;
    return `${body}.${this.mac(caller.name, body)}`;
  }

  /** The caller a cookie value stands for, or null (forged, expired, or its key is gone). */
  verify(value: string, now = Date.now()): Caller | null {
    const [name64, issued36, mac, extra] = value.split('.');
    if (!name64 || !issued36 || !mac || extra !== undefined) return null;
    const issued = Number.parseInt(issued36, 36);
    if (!Number.isSafeInteger(issued) || issued > now + 60_000 || now - issued > MAX_AGE_MS) return null;
    const name = Buffer.from(name64, 'base64url').toString('utf8');
    const expected = this.mac(name, `${name64}.${issued36}`);
    if (!expected || expected.length !== mac.length) return null;
    if (!timingSafeEqual(Buffer.from(expected), Buffer.from(mac))) return null;
    return this.keys.byName(name);
  }

  private mac(name: string, body: string): string | null {
    const secret = this.keys.secretOf(name);
    return secret && createHmac('sha256', secret).update(`triad-console-session\0${body}`).digest('base64url');
  }
}

/** The session cookie's value in a request, or null. */
export function sessionCookieOf(req: Request): string | null {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) return part.slice(eq + 1).trim() || null;
  }
  return null;
}

/** Sets (value) or clears (null) the session cookie; Secure when the request came over HTTPS. */
export function setSessionCookie(req: Request, res: Response, value: string | null): void {
  const attrs = ['Path=/', 'HttpOnly', 'SameSite=Strict', ...(req.secure ? ['Secure'] : [])];
  if (value === null) attrs.push('Max-Age=0');
  res.append('Set-Cookie', `${SESSION_COOKIE}=${value ?? ''}; ${attrs.join('; ')}`);
}
