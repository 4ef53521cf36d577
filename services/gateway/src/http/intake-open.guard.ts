import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { CAPACITY_RETRY_AFTER_SECONDS, RedisCapacity } from '@triad/shared';
import type { Response } from 'express';
import { ApiException } from './api-exception.js';

/**
 * Refuses a route that takes new runs in while the capacity guard holds intake (Redis memory past
 * TRIAD_REDIS_MEMORY_HIGH): 503 `service_unavailable` with Retry-After. Reads the guard's kept sample: no Redis call.
 * Put it on every route that writes a new run (`@UseGuards(IntakeOpenGuard)`); it runs after authentication.
 */
@Injectable()
export class IntakeOpenGuard implements CanActivate {
  constructor(private readonly capacity: RedisCapacity) {}

  canActivate(ctx: ExecutionContext): boolean {
    if (!this.capacity.high) return true;
    ctx.switchToHttp().getResponse<Response>().setHeader('Retry-After', String(CAPACITY_RETRY_AFTER_SECONDS));
    throw new ApiException(
      'service_unavailable',
      `intake is paused while Redis memory is high; no run was created, try again in ${CAPACITY_RETRY_AFTER_SECONDS} s`,
    );
  }
}
