import { isIP } from 'node:net';
import { blockedReason } from '@triad/shared';
import type { NextFunction, Request, Response } from 'express';
import { ApiException } from './api-exception.js';

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Whether a Host header names this machine: `localhost`, `*.localhost` (RFC 6761) or a loopback address. */
export function isLoopbackHost(host: string | undefined): boolean {
  if (!host) return false;
  const name = host
    .toLowerCase()
    .replace(/:\d+$/, '')
    .replace(/^\[(.*)\]$/, '$1');
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  const family = isIP(name);
  // The SSRF guard's classification: IPv4-mapped forms (::ffff:127.0.0.1) count as the IPv4 address they carry.
  return family !== 0 && blockedReason(name, family === 4 ? 4 : 6) === 'loopback';
}

/**
 * Refuses what a hostile web page could make a browser send. Without API keys every caller is an admin, so the
 * gateway's authority is ambient to anything that reaches 127.0.0.1, a browser included:
 * - keyless, a Host that is not loopback is refused (DNS rebinding: a hostile name resolved to 127.0.0.1);
 * - a state-changing request marked cross-site by the browser (`Sec-Fetch-Site`), or whose `Origin` is not the
 *   gateway's own, is refused;
 * - a state-changing request must be `application/json`, which a page can only send after a CORS preflight that
 *   the gateway never grants. With keys a bodiless request may omit it: a browser never attaches the key itself.
 * Mounted before the body parser and every route, the queue dashboard included; answers in the API's error shape.
 */
export function crossSiteGuard(keyless: boolean) {
  return (req: Request, res: Response, next: NextFunction) => {
    const refusal = refusalOf(req, keyless);
    if (!refusal) return next();
    res.status(refusal.getStatus()).json(refusal.getResponse());
  };
}

function refusalOf(req: Request, keyless: boolean): ApiException | null {
  if (keyless && !isLoopbackHost(req.headers.host)) {
    return new ApiException('forbidden', 'without API keys the gateway answers requests to a loopback host only');
  }
  if (!STATE_CHANGING.has(req.method)) return null;
  if (!sameOrigin(req)) return new ApiException('forbidden', 'cross-site requests may not change anything');
  if ((keyless || hasBody(req)) && !isJson(req)) {
    return new ApiException('unsupported_media_type', 'a request that changes something must be application/json');
  }
  return null;
}

function sameOrigin(req: Request): boolean {
  // Set by the browser, never by page script: the strongest signal when present.
  const site = req.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') return false;
  if (site === 'same-origin') return true;
  const origin = req.headers.origin;
  if (origin === undefined) return true; // not a browser, or a browser navigating by itself
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    return false; // "null" (sandboxed frames, file:) and garbage
  }
  // Behind a proxy the browser's origin is the proxy's host; a page cannot set X-Forwarded-Host without a preflight.
  const forwarded = req.headers['x-forwarded-host'];
  const served = [req.headers.host, ...(typeof forwarded === 'string' ? forwarded.split(',') : [])];
  return served.some((h) => h?.trim().toLowerCase() === host.toLowerCase());
}

// The declared type, body or not (express's req.is() answers null for a bodiless request).
function isJson(req: Request): boolean {
  return (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase() === 'application/json';
}

function hasBody(req: Request): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}
