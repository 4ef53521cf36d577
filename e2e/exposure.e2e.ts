// What a service exposes on the network: a gateway without API keys answers this machine's loopback only, whatever
// TRIAD_GATEWAY_HOST says; each worker's Prometheus endpoint answers where the compose health check asks, and
// carries the metric names the README documents (and deploy/ manifests query, when there are any).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { freePort } from '../cli/src/stack/local-redis.js';
import { REPO_ROOT, type ServiceRole } from '../cli/src/stack/service-processes.js';
import { GatewayClient } from './support/gateway-harness.js';
import { acceptedScript } from './support/scripts.js';
import { TriadHarness } from './support/triad-harness.js';

interface ComposeService {
  environment?: Record<string, string>;
  healthcheck?: { test: string[] };
}
const compose = parse(readFileSync(`${REPO_ROOT}docker-compose.yml`, 'utf8'), { merge: true }) as {
  services: Record<string, ComposeService>;
};

/** The URL a compose health check fetches, e.g. http://127.0.0.1:9464/metrics. */
function healthUrl(service: string): URL {
  const test = compose.services[service]?.healthcheck?.test.join(' ') ?? '';
  const url = test.match(/fetch\('([^']+)'\)/)?.[1];
  if (!url) throw new Error(`no fetch URL in the health check of ${service}: ${test}`);
  return new URL(url);
}

// Another address of this machine: all of 127/8 reaches the loopback interface, but a socket bound to 127.0.0.1
// does not accept connections made to 127.0.0.2, while one bound to 0.0.0.0 does.
const OTHER_LOCAL_ADDRESS = '127.0.0.2';

/** Asks host:port for the gateway's compose health check path: the answer's status, or the connection error's code. */
async function probe(host: string, port: number, path = healthUrl('gateway').pathname): Promise<number | string> {
  try {
    return (await fetch(`http://${host}:${port}${path}`)).status;
  } catch (err) {
    return ((err as Error).cause as NodeJS.ErrnoException | undefined)?.code ?? String(err);
  }
}

const portOf = (gateway: GatewayClient) => Number(new URL(gateway.url).port);

/** The message of the gateway's JSON log line that says where it listens. */
const readyMessage = (gateway: GatewayClient) =>
  gateway.process
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line).msg as string)
    .find((msg) => msg.startsWith('ready '));

let triad: TriadHarness;
beforeAll(async () => {
  triad = await TriadHarness.start({
    executors: 1,
    scenario: {
      scripts: [
        acceptedScript('metrics', [
          { content: 'Sum.', toolCalls: [{ id: 'c1', name: 'calculator', arguments: { expression: '2+3' } }] },
          { content: 'Five.' },
        ]),
      ],
    },
  });
});
afterAll(async () => {
  await triad?.stop();
});

describe('the gateway without API keys', () => {
  it('listens on 127.0.0.1 only, even when TRIAD_GATEWAY_HOST asks for every interface', async () => {
    const gateway = await GatewayClient.start(triad, { TRIAD_GATEWAY_HOST: '0.0.0.0' });
    const port = portOf(gateway);
    expect(readyMessage(gateway)).toBe(`ready (prefix "${triad.prefix}") on http://127.0.0.1:${port}`);
    expect(await probe('127.0.0.1', port)).toBe(200);
    expect(await probe(OTHER_LOCAL_ADDRESS, port)).toBe('ECONNREFUSED');
    await gateway.process.stop();
  });

  it('serves every interface once keys are set (so the probe above could have reached it)', async () => {
    const gateway = await GatewayClient.start(triad, {
      TRIAD_GATEWAY_HOST: '0.0.0.0',
      TRIAD_API_KEYS: 'ops:exposure-test-key:admin',
    });
    const port = portOf(gateway);
    expect(await probe(OTHER_LOCAL_ADDRESS, port)).toBe(200);
    await gateway.process.stop();
  });
});

/** Metric names as the README's Metrics paragraph lists them (each item's first name; the rest are attributes). */
function documentedMetrics(): string[] {
  const readme = readFileSync(`${REPO_ROOT}README.md`, 'utf8');
  const paragraph = readme.match(/\*\*Metrics\*\*[^\n]*(\n[^\n]+)*/)?.[0] ?? '';
  const items = paragraph.slice(paragraph.indexOf(':') + 1).split(/,\s+/);
  return items.flatMap((item) => item.match(/`([a-z_.]+)`/)?.[1] ?? []);
}

/** Prometheus metric names (triad_...) that deployment manifests under deploy/ query, if the folder exists. */
function deployedMetricQueries(): string[] {
  const root = join(REPO_ROOT, 'deploy');
  if (!existsSync(root)) return [];
  const files = (dir: string): string[] =>
    readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? files(join(dir, f)) : [join(dir, f)]));
  return [...new Set(files(root).flatMap((f) => readFileSync(f, 'utf8').match(/\btriad_[a-z_]+/g) ?? []))];
}

// The Prometheus exporter adds `_total` to counters; no other suffix is accepted.
const exportedAs = (names: Set<string>, name: string) => names.has(name) || names.has(`${name}_total`);

describe('the metrics endpoint the compose health checks rely on', () => {
  it('answers on each worker at the health check’s path, with every documented metric', async () => {
    const roles: ServiceRole[] = ['planner', 'executor', 'judge'];
    const urls = roles.map(healthUrl);
    // The health check asks the port the services are given.
    for (const [i, role] of roles.entries()) {
      expect([role, urls[i]?.port]).toEqual([role, compose.services[role]?.environment?.TRIAD_METRICS_PORT]);
    }
    const path = urls[0]?.pathname as string;
    expect(urls.map((u) => u.pathname)).toEqual([path, path, path]);

    // The same services again, each with a metrics port of its own (compose gives each container 9464).
    await Promise.all(triad.services.map((s) => s.stop()));
    triad.services = [];
    const ports = await Promise.all(roles.map(() => freePort()));
    await Promise.all(roles.map((role, i) => triad.spawn(role, role, { TRIAD_METRICS_PORT: String(ports[i]) })));
    const run = await triad.waitForRun(await triad.submit({ goal: 'goal:metrics', runId: 'metrics-run' }));
    expect(run).toMatchObject({ status: 'succeeded', answer: 'Five.' });

    const documented = documentedMetrics();
    expect(documented).toContain('triad.queue.depth'); // the paragraph was found and read
    const prometheus = documented.map((n) => n.replaceAll('.', '_'));
    const wanted = [...new Set([...prometheus, ...deployedMetricQueries()])];
    // Histograms and counters are exported once recorded: wait until each role has flushed what the run did.
    const exported = await triad.eventually(
      async () => {
        const texts = await Promise.all(
          ports.map(async (port) => {
            const res = await fetch(`http://127.0.0.1:${port}${path}`);
            return res.status === 200 ? res.text() : `status ${res.status}`;
          }),
        );
        const names = new Set(texts.flatMap((t) => [...t.matchAll(/^# TYPE (\w+) /gm)].map((m) => m[1] as string)));
        return wanted.every((w) => exportedAs(names, w)) ? names : false;
      },
      { what: `metrics ${wanted.join(', ')} on the workers’ ${path}` },
    );
    expect(wanted.filter((w) => !exportedAs(exported, w))).toEqual([]);
  });
});
