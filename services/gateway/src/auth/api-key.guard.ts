import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { ApiRole } from '@triad/shared';
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

/** The caller of a request that needs one of `roles`; throws the 401 or 403 answer otherwise. */
export function authenticate(keys: ApiKeys, req: Request, roles: ApiRole[]): Caller {
  if (!keys.enabled) return ANONYMOUS_ADMIN;
  const presented = ApiKeys.fromHeaders(req.headers);
  if (!presented) throw new ApiException('unauthorized', 'an API key is required (Authorization: Bearer <key>)');
  const caller = keys.match(presented);
  if (!caller) throw new ApiException('unauthorized', 'unknown API key');
  if (!hasRole(caller, roles)) {
    throw new ApiException('forbidden', `API key "${caller.name}" lacks the role: ${roles.join(' or ')}`);
  }
  return caller;
}
