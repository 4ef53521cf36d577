import type { FactoryProvider } from '@nestjs/common';
import type { TriadConfig } from '../config/triad-config.js';
import { Embedder } from '../memory/embedder.js';
import { RedisSemanticMemory } from '../memory/redis-semantic-memory.js';
import type { SemanticMemory } from '../memory/semantic-memory.js';
import type { RedisClient } from '../queue/redis-connection.js';
import { RUN_REDIS, SEMANTIC_MEMORY } from './tokens.js';

/**
 * SEMANTIC_MEMORY: the tenants' semantic memory over the service's Redis connection, with embeddings from the
 * configured model server. Provided by TriadCoreModule, so every service may inject it
 * (`@Inject(SEMANTIC_MEMORY) memory: SemanticMemory`); nothing is loaded until a tenant is first searched or written.
 */
export function semanticMemoryProvider(config: TriadConfig): FactoryProvider<SemanticMemory> {
  return {
    provide: SEMANTIC_MEMORY,
    useFactory: (redis: RedisClient) => new RedisSemanticMemory(redis, config, new Embedder(config)),
    inject: [RUN_REDIS],
  };
}
