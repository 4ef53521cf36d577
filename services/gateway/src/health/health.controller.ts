import { Controller, Get, Inject } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { type RedisClient, RUN_REDIS } from '@triad/shared';

const PING_TIMEOUT_MS = 2_000;

/** Liveness (the process answers) and readiness (Redis answers PING). Public: no API key needed. */
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    @Inject(RUN_REDIS) private readonly redis: RedisClient,
  ) {}

  @Get('healthz')
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  @Get('readyz')
  @HealthCheck()
  ready() {
    return this.health.check([() => this.pingRedis()]);
  }

  private async pingRedis() {
    const session = this.indicators.check('redis');
    // The shared connection queues commands while Redis is away; readiness must answer, not wait.
    const timeout = new Promise<'timeout'>((r) => setTimeout(r, PING_TIMEOUT_MS, 'timeout').unref());
    const reply = await Promise.race([this.redis.ping().catch((e: Error) => e.message), timeout]);
    return reply === 'PONG' ? session.up() : session.down({ message: String(reply) });
  }
}
