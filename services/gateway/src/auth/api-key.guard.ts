import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { type ApiRole, TENANT_PATTERN } from '@triad/shared';
import type { Request } from 'express';
import { ApiException } from '../http/api-exception.js';
import { ANONYMOUS_ADMIN, ApiKeys, type Caller, hasRole } from './api-keys.js';
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

/** The caller of a request that needs one of `roles`; throws the 401 or 403 answer otherwise. */
export function authenticate(keys: ApiKeys, req: Request, roles: ApiRole[]): Caller {
  if (!keys.enabled) return actingFor(ANONYMOUS_ADMIN, req);
  const presented = ApiKeys.fromHeaders(req.headers);
  if (!presented) throw new ApiException('unauthorized', 'an API key is required (Authorization: Bearer <key>)');
  const caller = keys.match(presented);
  if (!caller) throw new ApiException('unauthorized', 'unknown API key');
  if (!hasRole(caller, roles)) {
    throw new ApiException('forbidden', `API key "${caller.name}" lacks the role: ${roles.join(' or ')}`);
  }
  return actingFor(caller, req);
}

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
