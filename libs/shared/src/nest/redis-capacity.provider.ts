import type { Provider } from '@nestjs/common';
import type { TriadConfig } from '../config/triad-config.js';
import type { RedisClient } from '../queue/redis-connection.js';
import { RedisCapacity } from '../store/redis-capacity.js';
import { observeCapacity } from '../telemetry/triad-metrics.js';
import { RUN_REDIS } from './tokens.js';

/**
 * The capacity guard of a service that takes goals in (gateway, planner): sampled once before the service starts
 * (so no goal slips in before the first reading), then every second; its state is exported as gauges.
 */
export function redisCapacityProvider(config: TriadConfig): Provider {
  return {
    provide: RedisCapacity,
    useFactory: async (redis: RedisClient) => {
      const capacity = new RedisCapacity(redis, config.redisMemoryHigh);
      await capacity.sample();
      observeCapacity(() => capacity.state);
      return capacity;
    },
    inject: [RUN_REDIS],
  };
}
