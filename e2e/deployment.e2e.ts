// docker-compose.yml and the Dockerfile checked statically (no Docker engine here): every Triad service's
// environment passes the configuration schema, and every name, image, file and port it refers to exists.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '@triad/shared';
import { parse } from 'yaml';
import { REPO_ROOT } from '../cli/src/stack/service-processes.js';

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string; target?: string };
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, unknown>;
  healthcheck?: { test: string[] };
  ports?: string[];
  deploy?: { replicas?: number };
}

const compose = parse(readFileSync(`${REPO_ROOT}docker-compose.yml`, 'utf8'), { merge: true }) as {
  services: Record<string, ComposeService>;
};
const dockerfile = readFileSync(`${REPO_ROOT}Dockerfile`, 'utf8');
const TRIAD = ['planner', 'executor', 'judge', 'gateway'];

// Compose interpolation as `docker compose` does it, with what an operator would export.
const operatorEnv: Record<string, string> = { TRIAD_API_KEYS: 'ops:0123456789abcdef:admin' };
const interpolate = (value: string) =>
  value.replace(/\$\{(\w+)(?::([-?])([^}]*))?\}/g, (_, name: string, op: string, arg: string) => {
    const given = operatorEnv[name];
    if (given !== undefined && given !== '') return given;
    if (op === '?') throw new Error(`${name} is required: ${arg}`);
    return op === '-' ? arg : '';
  });
const envOf = (service: string) =>
  Object.fromEntries(
    Object.entries(compose.services[service].environment ?? {}).map(([k, v]) => [k, interpolate(String(v))]),
  );
const hostOf = (url: string) => new URL(url).hostname;

describe('docker-compose.yml', () => {
  it('runs Redis 7 with an append-only file and no eviction, and Jaeger v2 with its UI and OTLP ports', () => {
    const { redis, jaeger } = compose.services;
    expect(redis.image).toMatch(/^redis:7(\.|$)/);
    expect(redis.command?.join(' ')).toContain('--appendonly yes');
    expect(redis.command?.join(' ')).toContain('--maxmemory-policy noeviction');
    expect(jaeger.image).toMatch(/^jaegertracing\/jaeger:2\./);
    expect(jaeger.ports).toEqual(expect.arrayContaining(['16686:16686', '4317:4317', '4318:4318']));
  });

  it.each(TRIAD)(
    'gives %s an environment the configuration schema accepts, pointing at services that exist',
    (name) => {
      const env = envOf(name);
      const config = loadConfig(env);
      expect(hostOf(config.redisUrl)).toBe('redis');
      expect(config.telemetry.otlpEndpoint).toBe('http://jaeger:4318');
      expect(config.telemetry.serviceName).toBe(`triad-${name}`);
      expect(config.telemetry.metricsPort).toBeGreaterThan(0);
      for (const host of [hostOf(config.redisUrl), hostOf(config.telemetry.otlpEndpoint ?? '')]) {
        expect(Object.keys(compose.services)).toContain(host);
      }
    },
  );

  it.each(TRIAD)('builds %s from this repository and starts its entry point behind the telemetry preload', (name) => {
    const service = compose.services[name];
    expect(service.build?.dockerfile).toBe('Dockerfile');
    expect(existsSync(`${REPO_ROOT}${service.build?.context}/${service.build?.dockerfile}`)).toBe(true);
    expect(dockerfile).toMatch(new RegExp(`^FROM node:24\\S* AS ${service.build?.target}$`, 'm'));
    const [preload, entry] = (service.command ?? []).filter((a) => a.endsWith('.js'));
    expect(entry).toBe(`services/${name}/dist/main.js`);
    // dist is built in the image; its sources must be here.
    expect(existsSync(`${REPO_ROOT}services/${name}/src/main.ts`)).toBe(true);
    expect(existsSync(`${REPO_ROOT}${preload.replace('/dist/', '/src/').replace(/\.js$/, '.ts')}`)).toBe(true);
    expect(service.healthcheck?.test.length).toBeGreaterThan(1);
    for (const dep of Object.keys(service.depends_on ?? {})) expect(Object.keys(compose.services)).toContain(dep);
  });

  it('scales executors to three and publishes the gateway on 8080, which it listens on', () => {
    expect(compose.services.executor.deploy?.replicas).toBe(3);
    expect(compose.services.gateway.ports).toContain('8080:8080');
    expect(loadConfig(envOf('gateway')).gateway.port).toBe(8080);
  });

  it('refuses to start the gateway without API keys rather than serve every caller as admin', () => {
    delete operatorEnv.TRIAD_API_KEYS;
    try {
      expect(() => envOf('gateway')).toThrow(/TRIAD_API_KEYS is required/);
    } finally {
      operatorEnv.TRIAD_API_KEYS = 'ops:0123456789abcdef:admin';
    }
  });
});

describe('Dockerfile', () => {
  it('builds on node:24 with npm install and npm run build, and runs a service chosen by a build arg', () => {
    expect(dockerfile).toMatch(/^FROM node:24 AS build$/m);
    expect(dockerfile).toMatch(/RUN npm install .*&& npm run build/);
    expect(dockerfile).toMatch(/^ARG SERVICE=/m);
    expect(dockerfile).toContain(['services/', '{TRIAD_SERVICE}/dist/main.js'].join('$'));
  });
});
