import { Controller, Get, Inject } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { RedisCapacity, type RedisClient, RUN_REDIS } from '@triad/shared';

const PING_TIMEOUT_MS = 2_000;

/**
 * Liveness (the process answers) and readiness (Redis answers PING). Public: no API key needed. Readiness also says
 * whether intake is paused by the capacity guard, and why, but stays 200 then: the gateway must keep serving reads,
 * cancellations and approvals, which let runs finish and free Redis memory; only new runs get 503.
 */
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    @Inject(RUN_REDIS) private readonly redis: RedisClient,
    private readonly capacity: RedisCapacity,
  ) {}

  @Get('healthz')
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  @Get('readyz')
  @HealthCheck()
  ready() {
    return this.health.check([() => this.pingRedis(), () => this.intake()]);
  }

  private intake() {
    const { high, usedFraction, threshold } = this.capacity.state;
    const why = this.capacity.describe();
    return this.indicators.check('intake').up({ paused: high, reason: why, usedFraction, threshold });
  }

  private async pingRedis() {
    const session = this.indicators.check('redis');
    // The shared connection queues commands while Redis is away; readiness must answer, not wait.
    const timeout = new Promise<'timeout'>((r) => setTimeout(r, PING_TIMEOUT_MS, 'timeout').unref());
    const reply = await Promise.race([this.redis.ping().catch((e: Error) => e.message), timeout]);
    return reply === 'PONG' ? session.up() : session.down({ message: String(reply) });
  }
}
