import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { ROLES_KEY } from '../auth/roles.decorator.js';
import { GATEWAY_CONTROLLERS } from '../gateway.module.js';
import { apiRoutes } from './api-routes.js';
import { buildOpenApiDocument, defaultDocumentSettings } from './openapi-document.js';

const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const REDOCLY = join(REPO_ROOT, 'node_modules/@redocly/cli/bin/cli.js');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'triad-openapi-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Redocly's lint of a document with the repo's config (the recommended rules): its problems, errors and warnings. */
async function lint(document: unknown): Promise<{ totals: { errors: number; warnings: number }; problems: unknown[] }> {
  const file = join(dir, 'openapi.json');
  await writeFile(file, JSON.stringify(document));
  const args = [REDOCLY, 'lint', file, '--config', join(REPO_ROOT, 'redocly.yaml'), '--format', 'json'];
  const child = spawn(process.execPath, args, {
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c) => {
    out += c;
  });
  child.stderr.on('data', (c) => {
    err += c;
  });
  await new Promise((resolve) => child.once('close', resolve));
  const start = out.indexOf('{');
  if (start < 0) throw new Error(`redocly printed no report:\n${out}\n${err}`);
  return JSON.parse(out.slice(start));
}

type Operations = Record<string, Record<string, { operationId?: string; 'x-required-roles'?: string[] }>>;
const operations = (doc: { paths?: unknown }) =>
  Object.entries(doc.paths as Operations).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({ path, method, ...op })),
  );

describe('the OpenAPI document', () => {
  it("passes Redocly's recommended rules with no error and no warning, as published and as served", async () => {
    for (const doc of [buildOpenApiDocument(), buildOpenApiDocument({ serverUrl: '/', sseKeepAliveMs: 500 })]) {
      const report = await lint(doc);
      expect(report.problems).toEqual([]);
      expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
    }
  }, 60_000);

  it('is linted for real: an operation without an operationId is reported', async () => {
    const doc = buildOpenApiDocument();
    delete (doc.paths as Operations)['/v1/runs'].get.operationId;
    const report = await lint(doc);
    expect(report.problems).toEqual([expect.objectContaining({ ruleId: 'operation-operationId' })]);
  }, 60_000);

  it('names every operation with a unique operationId, and declares servers, a license and the key schemes', () => {
    const doc = buildOpenApiDocument();
    const ids = operations(doc).map((o) => o.operationId);
    expect(ids.every((id) => typeof id === 'string' && /^[a-z][A-Za-z]+$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(doc.servers?.length).toBeGreaterThan(0);
    expect(doc.info.license?.identifier).toBe('Apache-2.0');
    expect(Object.keys(doc.components?.securitySchemes ?? {}).sort()).toEqual(['apiKey', 'bearer']);
    expect(doc.webhooks?.['run.finished']?.post?.requestBody).toBeDefined();
  });

  it('has a row for every route the controllers serve behind a key, with the same roles, and no other', () => {
    const served: string[] = [];
    for (const controller of GATEWAY_CONTROLLERS) {
      const base = String(Reflect.getMetadata(PATH_METADATA, controller) ?? '').replace(/^\/|\/$/g, '');
      for (const name of Object.getOwnPropertyNames(controller.prototype)) {
        const handler = (controller.prototype as unknown as Record<string, object>)[name];
        const path = Reflect.getMetadata(PATH_METADATA, handler);
        const roles: string[] | undefined = Reflect.getMetadata(ROLES_KEY, handler);
        if (path === undefined || !roles) continue; // not a route, or a public one (health checks)
        const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as number].toLowerCase();
        const full = `/${[base, path].filter((p) => p && p !== '/').join('/')}`.replace(/:([A-Za-z]+)/g, '{$1}');
        served.push(`${method} ${full} ${[...roles].sort().join('+')}`);
      }
    }
    const table = apiRoutes(defaultDocumentSettings()).map(
      (r) => `${r.method} ${r.path} ${[...r.roles].sort().join('+')}`,
    );
    expect(table.sort()).toEqual(served.sort());
  });

  it("quotes this gateway's settings instead of fixed numbers", () => {
    const doc = buildOpenApiDocument({ sseKeepAliveMs: 2_500 });
    const events = (doc.paths as Operations)['/v1/runs/{id}/events'].get as { description?: string };
    expect(events.description).toContain('TRIAD_SSE_KEEPALIVE_MS (here 2.5 s)');
  });

  it('is published as schemas/openapi.json, up to date (npm run schemas writes it)', async () => {
    const published = JSON.parse(await readFile(join(REPO_ROOT, 'schemas/openapi.json'), 'utf8'));
    expect(published).toEqual(JSON.parse(JSON.stringify(buildOpenApiDocument())));
  });
});
