import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type { RedisClient, TriadConfig } from '@triad/shared';
import { mountQueueDashboard } from './admin/queue-dashboard.js';
import { ApiKeys } from './auth/api-keys.js';
import { mountConsole } from './console/console-files.js';
import { crossSiteGuard } from './http/cross-site.middleware.js';
import { buildOpenApiDocument } from './openapi/openapi-document.js';

/**
 * What the gateway adds to the Nest app before it listens: the cross-site guard (before anything else answers), the
 * JSON body parser with the size limit, the OpenAPI document (/openapi.json) and its UI (/docs), and the queue
 * dashboard (/admin/queues), and the web console (/console). Returns a closer.
 */
export function configureGateway(
  app: INestApplication,
  config: TriadConfig,
  redis: RedisClient,
): () => Promise<unknown> {
  const express = app as NestExpressApplication;
  const keys = new ApiKeys(config.gateway.apiKeys);
  express.use(crossSiteGuard(!keys.enabled));
  express.useBodyParser('json', { limit: config.gateway.maxBodyBytes });
  express.disable('x-powered-by');
  // Served with a relative server URL: the API is wherever this document was fetched from.
  const document = buildOpenApiDocument({ serverUrl: '/', sseKeepAliveMs: config.gateway.sseKeepAliveMs });
  SwaggerModule.setup('docs', app, document as OpenAPIObject, {
    jsonDocumentUrl: 'openapi.json',
    yamlDocumentUrl: 'openapi.yaml',
    customSiteTitle: 'Triad gateway',
  });
  mountConsole(app);
  return mountQueueDashboard(app, keys, redis, config.prefix);
}
