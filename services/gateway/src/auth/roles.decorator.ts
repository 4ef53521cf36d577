import { createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import type { ApiRole } from '@triad/shared';
import type { Request } from 'express';
import type { Caller } from './api-keys.js';

export const ROLES_KEY = 'triad:roles';

/** The roles of which a caller needs one for this route (admin always passes). */
export const Roles = (...roles: ApiRole[]) => SetMetadata(ROLES_KEY, roles);

/** The authenticated caller, set by the ApiKeyGuard. */
export const CurrentCaller = createParamDecorator(
  (_: unknown, ctx: ExecutionContext) =>
    (ctx.switchToHttp().getRequest<Request>() as Request & { caller: Caller }).caller,
);
