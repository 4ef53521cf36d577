import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { type ApiRole, TENANT_PATTERN } from '@triad/shared';
import type { Request } from 'express';
import { ApiException } from '../http/api-exception.js';
import { ANONYMOUS_ADMIN, ApiKeys, type Caller, hasRole } from './api-keys.js';
import { ConsoleSessions, sessionCookieOf } from './console-session.js';
import { ROLES_KEY } from './roles.decorator.js';

/** Authenticates every route that names roles: 401 for a missing or unknown key, 403 for a key without the role. */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly keys: ApiKeys,
    private readonly reflector: Reflector,
  ) {}

  canActivate(ctx: ExecutionContext): boolean {
    const roles = this.reflector.getAllAndOverride<ApiRole[] | undefined>(ROLES_KEY, [
      ctx.getHandler(),
      ctx.getClass(),
    ]);
    if (!roles) return true; // public: health checks
    const req = ctx.switchToHttp().getRequest<Request & { caller?: Caller }>();
    req.caller = authenticate(this.keys, req, roles);
    return true;
  }
}

/** The header in which an admin key names the tenant it acts for. */
export const TENANT_HEADER = 'x-triad-tenant';

/**
 * The caller of a request that needs one of `roles`; throws the 401 or 403 answer otherwise. The key comes from a
 * header, or from the console's session cookie (see console-session.ts).
 */
export function authenticate(keys: ApiKeys, req: Request, roles: ApiRole[]): Caller {
  if (!keys.enabled) return actingFor(ANONYMOUS_ADMIN, req);
  const caller = identify(keys, req);
  if (!hasRole(caller, roles)) {
    throw new ApiException('forbidden', `API key "${caller.name}" lacks the role: ${roles.join(' or ')}`);
  }
  return actingFor(caller, req);
}

/** Who presents a key or a session; throws the 401 answer for neither, an unknown key or a bad session. */
export function identify(keys: ApiKeys, req: Request): Caller {
  const presented = ApiKeys.fromHeaders(req.headers);
  if (presented) {
    const caller = keys.match(presented);
    if (!caller) throw new ApiException('unauthorized', 'unknown API key');
    return caller;
  }
  const session = sessionCookieOf(req);
  if (!session) throw new ApiException('unauthorized', 'an API key is required (Authorization: Bearer <key>)');
  const caller = new ConsoleSessions(keys).verify(session);
  if (!caller) throw new ApiException('unauthorized', 'the console session has ended: sign in again');
  refuseForgedSessionUse(req);
  return caller;
}

/**
 * A browser attaches the cookie by itself, so a state-changing request on a session must show it comes from a page
 * of the gateway (the console, the queue dashboard): `Sec-Fetch-Site: same-origin`, which only the browser sets; or,
 * from a browser without it, an `Origin` (the cross-site guard already refused other origins) and a JSON content
 * type, which another page could only send after a CORS preflight the gateway never grants.
 */
function refuseForgedSessionUse(req: Request): void {
  if (!STATE_CHANGING.has(req.method) || req.headers['sec-fetch-site'] === 'same-origin') return;
  const json = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase() === 'application/json';
  if (req.headers.origin === undefined || !json) {
    throw new ApiException('forbidden', 'a session may change something only from a page of this gateway');
  }
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** The caller acting for the tenant `X-Triad-Tenant` names: any tenant for an admin key, its own for the others. */
function actingFor(caller: Caller, req: Request): Caller {
  const named = req.headers[TENANT_HEADER];
  if (named === undefined || named === caller.tenant) return caller;
  if (typeof named !== 'string' || !TENANT_PATTERN.test(named)) {
    throw new ApiException('invalid_request', `${TENANT_HEADER} must name one tenant id`, [
      { path: 'X-Triad-Tenant', message: 'lower-case letters, digits, "_" or "-", at most 63' },
    ]);
  }
  if (!caller.roles.includes('admin')) {
    throw new ApiException('forbidden', `API key "${caller.name}" acts for its own tenant only`);
  }
  return { ...caller, tenant: named };
}
