// deploy/kubernetes checked without a cluster. The example overlay is built as kustomize builds it (our builder, and
// kubectl's kustomize compared with it where kubectl is installed); then every environment variable against the
// configuration schema, every image against the Dockerfile, every probe against the route a spawned service really
// serves, the termination grace against the job lock, the disruption budgets and Services against the pods they
// select, and every KEDA trigger against the Redis keys BullMQ really uses: read from a live Redis, as KEDA's redis
// scaler reads them, while runs go through the roles brought up one by one from zero (the scripted model answers).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  CONFIG_VARIABLES,
  createRedisConnection,
  DEFAULT_TENANT,
  HEALTH_PATHS,
  isTerminal,
  LOCK_DURATION_MS,
  loadConfig,
  QUEUES,
  RunStore,
  storeRunId,
} from '@triad/shared';
import { deleteKeys, type ScriptedModelServer, startScriptedModelServer } from '@triad/testing';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { parse as parseYaml } from 'yaml';
import { freePort } from '../cli/src/stack/local-redis.js';
import { REPO_ROOT, type ServiceProcess, type ServiceRole, spawnService } from '../cli/src/stack/service-processes.js';
import { eventually } from './support/eventually.js';
import { containersOf, type K8sObject, kustomizeBuild, objectKey } from './support/kustomize.js';
import { ACCEPT, calc } from './support/scripts.js';
import { REDIS_URL } from './support/triad-harness.js';

const DEPLOY = `${REPO_ROOT}deploy/kubernetes/`;
const OVERLAY = `${DEPLOY}overlays/example`;
const ROLES: ServiceRole[] = ['planner', 'executor', 'judge', 'gateway'];
const WORKER_ROLES = ['planner', 'executor', 'judge'] as const;
type WorkerRole = (typeof WORKER_ROLES)[number];

const built = kustomizeBuild(OVERLAY);
const find = (kind: string, name: string) => built.find((o) => o.kind === kind && o.metadata.name === name);
const deploymentOf = (role: string) => find('Deployment', `triad-${role}`) as K8sObject;
const containerOf = (role: string) => deploymentOf(role).spec.template.spec.containers[0];
const dockerfile = readFileSync(`${REPO_ROOT}Dockerfile`, 'utf8');

/** A container's environment as the kubelet gives it: envFrom in order (ConfigMaps resolved), then env. */
function containerEnv(container: K8sObject, secret: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of container.envFrom ?? []) {
    if (from.configMapRef) Object.assign(env, (find('ConfigMap', from.configMapRef.name) as K8sObject).data);
    if (from.secretRef) Object.assign(env, secret);
  }
  for (const e of container.env ?? []) env[e.name] = e.value;
  return env;
}

/** What an operator puts in the Secret `triad-secrets`: the names the kustomizations' instructions give. */
const SECRET = { OPENAI_API_KEY: 'sk-test', TRIAD_API_KEYS: 'ops:0123456789abcdef:admin' };
const secretNamesDocumented = () =>
  [`${DEPLOY}base/kustomization.yaml`, `${OVERLAY}/kustomization.yaml`, `${REPO_ROOT}README.md`].flatMap((f) =>
    [...readFileSync(f, 'utf8').matchAll(/--from-literal=([A-Z_]+)=/g)].map((m) => m[1] as string),
  );

/** A probe's port as a number: a container port's name resolved, or the number given. */
function probePort(container: K8sObject, port: string | number): number {
  if (typeof port === 'number') return port;
  const named = (container.ports ?? []).find((p: K8sObject) => p.name === port);
  if (!named) throw new Error(`no container port named ${port}`);
  return named.containerPort;
}
const probesOf = (container: K8sObject) =>
  (['startupProbe', 'livenessProbe', 'readinessProbe'] as const).map((kind) => ({ kind, ...container[kind].httpGet }));

/** The queues a role's processors consume (`@Processor(QUEUES.x, ...)` in its sources). */
function consumedQueues(role: string): string[] {
  const dir = `${REPO_ROOT}services/${role}/src`;
  const files = (readdirSync(dir, { recursive: true }) as string[]).filter((f) => /(?<!\.spec)\.ts$/.test(f));
  return files
    .flatMap((f) => [...readFileSync(path.join(dir, f), 'utf8').matchAll(/@Processor\(QUEUES\.(\w+)/g)])
    .map((m) => QUEUES[m[1] as keyof typeof QUEUES])
    .sort();
}

const memoryMi = (q: string) => {
  const m = /^(\d+)(Mi|Gi)$/.exec(q);
  if (!m) throw new Error(`memory quantity ${q} is not in Mi or Gi`);
  return Number(m[1]) * (m[2] === 'Gi' ? 1024 : 1);
};

describe('the example overlay, built', () => {
  it('is what kubectl kustomize builds too (where kubectl is installed)', () => {
    let output: string;
    try {
      output = execFileSync('kubectl', ['kustomize', OVERLAY], { encoding: 'utf8', timeout: 60_000 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // no kubectl here: our builder alone
      throw err;
    }
    const theirs = new Map(
      output
        .split(/^---$/m)
        .filter((d) => d.trim())
        .map((d) => parseYaml(d) as K8sObject)
        .map((o) => [objectKey(o), o]),
    );
    const ours = new Map(built.map((o) => [objectKey(o), o]));
    expect([...ours.keys()].sort()).toEqual([...theirs.keys()].sort());
    for (const [key, o] of ours) expect([key, o]).toEqual([key, theirs.get(key)]);
  });

  it('has a Deployment for each role, the gateway never scaled to zero, and the worker roles under KEDA', () => {
    for (const role of ROLES) expect(deploymentOf(role)?.kind).toBe('Deployment');
    expect(deploymentOf('gateway').spec.replicas).toBeGreaterThanOrEqual(2);
    expect(find('ScaledObject', 'triad-gateway')).toBeUndefined();
    for (const role of WORKER_ROLES) {
      // Replicas are KEDA's: a `replicas` here would be reset by every `kubectl apply`.
      expect(deploymentOf(role).spec.replicas).toBeUndefined();
      const so = find('ScaledObject', `triad-${role}`) as K8sObject;
      expect(so.spec.scaleTargetRef.name).toBe(`triad-${role}`);
      expect(so.spec.minReplicaCount).toBe(0);
      expect(so.spec.maxReplicaCount).toBeGreaterThan(1);
    }
  });

  it.each(ROLES)('gives the %s only variables the configuration schema knows, and a valid configuration', (role) => {
    const env = containerEnv(containerOf(role), SECRET);
    expect(Object.keys(env).filter((name) => !CONFIG_VARIABLES.includes(name))).toEqual([]);
    const config = loadConfig(env);
    expect(config.telemetry.serviceName).toBe(`triad-${role}`);
    // REDIS_URL and the OTLP endpoint name Services of the overlay, on ports they serve.
    for (const url of [new URL(config.redisUrl), new URL(config.telemetry.otlpEndpoint ?? '')]) {
      const service = find('Service', url.hostname) as K8sObject;
      expect(service.spec.ports.map((p: K8sObject) => String(p.port))).toContain(url.port);
    }
    expect(config.telemetry.metricsPort).toBe(probePort(containerOf(role), 'metrics'));
    const secretRefs = containerOf(role).envFrom.filter((f: K8sObject) => f.secretRef);
    expect(secretRefs.map((f: K8sObject) => f.secretRef.name)).toEqual(['triad-secrets']);
  });

  it('documents only Secret keys the configuration schema knows', () => {
    const names = secretNamesDocumented();
    expect(names).toEqual(expect.arrayContaining(Object.keys(SECRET)));
    expect(names.filter((n) => !CONFIG_VARIABLES.includes(n))).toEqual([]);
  });

  it.each(ROLES)('runs the %s from the runtime stage of the Dockerfile, as a non-root user', (role) => {
    const deployment = deploymentOf(role);
    const container = containerOf(role);
    // The overlay points the `triad` image of the base at its registry; the base's README says how it is built.
    expect(container.image).toBe('registry.example.com/triad:0.1.0');
    expect(readFileSync(`${DEPLOY}base/kustomization.yaml`, 'utf8')).toContain(
      'docker build --target runtime -t triad .',
    );
    expect(dockerfile).toMatch(/^FROM node:24\S* AS runtime$/m);
    const runtime = dockerfile.slice(dockerfile.search(/ AS runtime$/m));
    expect(runtime).toMatch(/^WORKDIR \/app$/m);
    expect(runtime).toMatch(/^USER node$/m); // uid 1000 in the node images
    expect(deployment.spec.template.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
    // The command is the image's own (the Dockerfile's CMD), with the role's entry point; both are built from here.
    const [node, ...args] = container.command as string[];
    expect(node).toBe('node');
    const [preload, entry] = args.filter((a) => a.endsWith('.js'));
    expect(entry).toBe(`services/${role}/dist/main.js`);
    expect(dockerfile).toContain(`--import ${preload}`);
    readFileSync(`${REPO_ROOT}${(preload as string).replace('/dist/', '/src/').replace(/\.js$/, '.ts')}`);
    readFileSync(`${REPO_ROOT}services/${role}/src/main.ts`);
    if (role === 'executor') {
      const workspace = loadConfig(containerEnv(container, SECRET)).workspace;
      expect(dockerfile).toContain(`TRIAD_WORKSPACE=${workspace}`);
      expect(container.volumeMounts.map((m: K8sObject) => m.mountPath)).toContain(workspace);
    }
  });

  it('pins every other image to a version, Jaeger to the one docker-compose.yml runs', () => {
    const compose = parseYaml(readFileSync(`${REPO_ROOT}docker-compose.yml`, 'utf8'), { merge: true });
    const images = built.flatMap(containersOf).map((c) => c.image as string);
    for (const image of images) expect(image).toMatch(/:[0-9][\w.-]*$/);
    expect(images).toContain(compose.services.jaeger.image);
    expect(images.find((i) => i.startsWith('redis:'))).toMatch(/^redis:7\./);
  });

  it.each(WORKER_ROLES)('gives the %s a termination grace longer than one step and its job lock', (role) => {
    const config = loadConfig(containerEnv(containerOf(role), SECRET));
    const stepMs = role === 'executor' ? config.toolTimeoutMs : config.model.timeoutMs;
    const graceMs = deploymentOf(role).spec.template.spec.terminationGracePeriodSeconds * 1000;
    expect(graceMs).toBeGreaterThanOrEqual(stepMs + LOCK_DURATION_MS);
  });

  it.each(ROLES)('probes the %s on its health routes, at the port it serves them on', (role) => {
    const container = containerOf(role);
    const config = loadConfig(containerEnv(container, SECRET));
    const served = role === 'gateway' ? config.gateway.port : config.healthPort;
    for (const probe of probesOf(container)) {
      expect(probePort(container, probe.port)).toBe(served);
      expect(probe.path).toBe(probe.kind === 'readinessProbe' ? HEALTH_PATHS.ready : HEALTH_PATHS.live);
    }
  });

  it('keeps a disruption budget for each role that selects its pods, and never blocks a drain of a role at zero', () => {
    for (const role of ROLES) {
      const podLabels = deploymentOf(role).spec.template.metadata.labels;
      const pdbs = built.filter(
        (o) =>
          o.kind === 'PodDisruptionBudget' &&
          Object.entries(o.spec.selector.matchLabels).every(([k, v]) => podLabels[k] === v),
      );
      expect([role, pdbs.length]).toEqual([role, 1]);
      const pdb = pdbs[0] as K8sObject;
      if (role === 'gateway') expect(pdb.spec.minAvailable).toBeLessThan(deploymentOf(role).spec.replicas);
      else expect(pdb.spec.maxUnavailable).toBeGreaterThanOrEqual(1);
    }
  });

  it('routes every Service to pods it selects, on container ports they have', () => {
    for (const service of built.filter((o) => o.kind === 'Service')) {
      const pods = built.filter(
        (o) =>
          containersOf(o).length &&
          Object.entries(service.spec.selector).every(([k, v]) => o.spec.template.metadata.labels[k] === v),
      );
      expect([service.metadata.name, pods.length]).toEqual([service.metadata.name, 1]);
      const ports = containersOf(pods[0]).flatMap((c) => c.ports ?? []);
      for (const p of service.spec.ports) {
        expect(ports.some((cp: K8sObject) => cp.name === p.targetPort || cp.containerPort === p.targetPort)).toBe(true);
      }
    }
  });

  it.each(ROLES)('sets resource requests and a memory limit above them for the %s, and no CPU limit', (role) => {
    const { requests, limits } = containerOf(role).resources;
    expect(requests.cpu).toMatch(/^\d+m$/);
    expect(memoryMi(limits.memory)).toBeGreaterThan(memoryMi(requests.memory));
    expect(limits.cpu).toBeUndefined(); // a throttled event loop would miss its lock renewals
  });

  it('wires the collector: every pipeline part is defined, traces go to Jaeger, metrics to Prometheus', () => {
    const config = parseYaml((find('ConfigMap', 'otel-collector') as K8sObject).data['config.yaml']);
    for (const [name, pipeline] of Object.entries(config.service.pipelines) as [string, K8sObject][]) {
      for (const part of ['receivers', 'processors', 'exporters']) {
        for (const id of pipeline[part]) expect([name, part, id, id in config[part]]).toEqual([name, part, id, true]);
      }
    }
    const jaeger = new URL(`http://${config.exporters['otlp/jaeger'].endpoint}`);
    expect(find('Service', jaeger.hostname)?.spec.ports.map((p: K8sObject) => String(p.port))).toContain(jaeger.port);
    expect(config.service.pipelines.metrics.exporters).toContain('prometheus');
  });

  it('scales each worker role on exactly the queues it consumes, at the Redis and prefix the services use', () => {
    const config = loadConfig(containerEnv(containerOf('planner'), SECRET));
    const redis = new URL(config.redisUrl);
    for (const role of WORKER_ROLES) {
      const triggers = (find('ScaledObject', `triad-${role}`) as K8sObject).spec.triggers as K8sObject[];
      const queues = new Set<string>();
      for (const t of triggers) {
        expect(t.type).toBe('redis');
        expect(t.metadata.address).toBe(`${redis.hostname}:${redis.port}`);
        const [prefix, queue, state] = t.metadata.listName.split(':');
        expect(prefix).toBe(config.prefix);
        expect(['wait', 'prioritized', 'active', 'delayed']).toContain(state);
        queues.add(queue);
      }
      expect([role, [...queues].sort()]).toEqual([role, consumedQueues(role)]);
    }
  });
});

// ------------------------------------------------------------------------------------------------------------------
// Live: the services started the way the manifests start them, and the KEDA triggers read from Redis during runs.

// KEDA's redis scaler (pkg/scalers/redis_scaler.go): one script per trigger, counting the key by its type.
const KEDA_LIST_LENGTH = `
local listType = redis.call('type', KEYS[1]).ok
if listType == 'zset' then return redis.call('zcard', KEYS[1])
elseif listType == 'set' then return redis.call('scard', KEYS[1])
elseif listType == 'hash' then return redis.call('hlen', KEYS[1])
elseif listType == 'list' or listType == 'none' then return redis.call('llen', KEYS[1])
else return redis.error_reply('ERR unsupported key type: ' .. listType) end`;

interface ScalerReading {
  /** KEDA activates the target (from zero) when any trigger's value is above its activation value (0). */
  active: boolean;
  /** The replicas the HPA asks for: the largest over the triggers of ceil(value / listLength), within min..max. */
  replicas: number;
  counts: Record<string, number>;
}

describe('the services as the manifests run them, and what KEDA reads while runs go through', () => {
  let redis: Redis;
  let model: ScriptedModelServer;
  let env: NodeJS.ProcessEnv;
  let prefix: string;
  const procs: Partial<Record<ServiceRole, ServiceProcess>> = {};
  const ports: Partial<Record<ServiceRole | 'metrics', number>> = {};
  /** Every key a trigger read and the Redis type it had when it held jobs. */
  const typesSeen = new Map<string, Set<string>>();

  const logs = () =>
    Object.values(procs)
      .map((p) => `--- ${p?.name}\n${p?.output().slice(-(Number(process.env.K8S_LOG_CHARS) || 2500))}`)
      .join('\n');

  async function scaler(role: WorkerRole): Promise<ScalerReading> {
    const so = find('ScaledObject', `triad-${role}`) as K8sObject;
    const counts: Record<string, number> = {};
    let replicas = 0;
    for (const t of so.spec.triggers as K8sObject[]) {
      // The manifests' prefix is `triad`; this run has its own (checked above to be the same place in the key).
      const key = `${prefix}:${t.metadata.listName.split(':').slice(1).join(':')}`;
      // The count and the key's type in one transaction: read apart, a key emptied between them showed as `none`.
      const [counted, typed] = (await redis.multi().eval(KEDA_LIST_LENGTH, 1, key).type(key).exec()) ?? [];
      const n = Number(counted?.[1]);
      counts[t.name] = n;
      if (n > 0) {
        const type = String(typed?.[1]);
        const state = t.name.replace(/^[a-z]+-/, '');
        typesSeen.set(state, (typesSeen.get(state) ?? new Set()).add(type));
      }
      replicas = Math.max(replicas, Math.ceil(n / Number(t.metadata.listLength)));
    }
    const active = Object.values(counts).some((n) => n > 0);
    replicas = Math.min(so.spec.maxReplicaCount, Math.max(active ? 1 : so.spec.minReplicaCount, replicas));
    return { active, replicas, counts };
  }

  /** Waits until KEDA would see exactly these roles active (the others at zero), and returns the readings. */
  function scalersUntil(
    activeRoles: WorkerRole[],
    what: string,
    more?: (r: Record<WorkerRole, ScalerReading>) => boolean,
  ) {
    let last: unknown;
    return eventually(
      async () => {
        const readings = Object.fromEntries(
          await Promise.all(WORKER_ROLES.map(async (r) => [r, await scaler(r)] as const)),
        ) as Record<WorkerRole, ScalerReading>;
        last = readings;
        const ok =
          WORKER_ROLES.every((r) => readings[r].active === activeRoles.includes(r)) && (!more || more(readings));
        return ok && readings;
      },
      { what, context: () => `last readings: ${JSON.stringify(last)}\n${logs()}` },
    );
  }

  async function spawn(role: ServiceRole, extra: Record<string, string> = {}) {
    // The container's environment from the manifests, pointed at this machine.
    const fromManifest = containerEnv(containerOf(role));
    const own = {
      OTEL_SERVICE_NAME: fromManifest.OTEL_SERVICE_NAME as string,
      ...(role === 'gateway' ? { TRIAD_GATEWAY_PORT: String(ports.gateway) } : {}),
      ...(role !== 'gateway' ? { TRIAD_HEALTH_PORT: String(ports[role]) } : {}),
    };
    procs[role] = await spawnService({ role, env: { ...env, ...own, ...extra }, readyTimeoutMs: 120_000 });
  }

  /** Each probe of the role's manifest, asked of the running process: the status codes and the readiness body. */
  async function askProbes(role: ServiceRole) {
    const answers: Record<string, number> = {};
    let readiness: unknown;
    for (const probe of probesOf(containerOf(role))) {
      const res = await fetch(`http://127.0.0.1:${ports[role]}${probe.path}`);
      answers[probe.kind] = res.status;
      const body = await res.json();
      if (probe.kind === 'readinessProbe') readiness = body;
    }
    return { answers, readiness };
  }

  const backlogGauge = async (queue: string) => {
    const text = await (await fetch(`http://127.0.0.1:${ports.metrics}/metrics`)).text();
    const line = text
      .split('\n')
      .find((l) => l.startsWith(`triad_queue_backlog{messaging_destination_name="${queue}"`));
    return line ? Number(line.split(' ').at(-1)) : undefined;
  };

  beforeAll(async () => {
    prefix = `k8s${Math.random().toString(36).slice(2, 8)}`;
    redis = createRedisConnection(REDIS_URL, 'e2e-k8s');
    model = await startScriptedModelServer({
      scenario: {
        scripts: [
          {
            name: 'k8s',
            match: 'goal:k8s',
            turnBy: { planner: 'assistantMessages', judge: 'assistantMessages' },
            turns: {
              planner: [
                { content: 'Two sums.', toolCalls: [calc('c1', '1 + 2'), calc('c2', '3 + 4')] },
                { content: 'The sums are 3 and 7.' },
              ],
              judge: [ACCEPT],
            },
          },
        ],
      },
    });
    for (const role of ROLES) ports[role] = await freePort();
    ports.metrics = await freePort();
    env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      REDIS_URL,
      TRIAD_PREFIX: prefix,
      OPENAI_BASE_URL: `${model.url}/v1`,
      OPENAI_API_KEY: 'test-key',
      // The scripted model answers by role, by these model names.
      TRIAD_PLANNER_MODEL: 'planner',
      TRIAD_JUDGE_MODEL: 'judge',
      TRIAD_MODEL_MAX_RETRIES: '0',
      TRIAD_API_KEYS: SECRET.TRIAD_API_KEYS,
      TRIAD_GATEWAY_HOST: '127.0.0.1',
    };
  });

  afterAll(async () => {
    await Promise.all(Object.values(procs).map((p) => p?.stop()));
    await model?.close();
    if (redis) {
      await deleteKeys(redis, prefix);
      await redis.quit();
    }
  });

  it('takes goals in with every worker role at zero, wakes each role on its queues in turn, and back to zero', async () => {
    // Nothing waits: KEDA keeps every worker role at zero.
    expect(await scalersUntil([], 'every role at zero before any goal')).toBeTruthy();

    // As after `kubectl apply`: each Deployment starts one replica before KEDA takes it to zero. The executor's
    // start publishes its tool catalog, which the planner needs (it stays in Redis while executors are at zero).
    await spawn('executor');
    await (procs.executor as ServiceProcess).stop();
    expect(await (procs.executor as ServiceProcess).exited).toBe(0);

    // The gateway (never at zero) takes a goal in; a producer adds one straight to the queue.
    await spawn('gateway', { TRIAD_METRICS_PORT: String(ports.metrics) });
    const gatewayProbes = await askProbes('gateway');
    expect(gatewayProbes.answers).toEqual({ startupProbe: 200, livenessProbe: 200, readinessProbe: 200 });
    const key = SECRET.TRIAD_API_KEYS.split(':')[1];
    const submitted = await fetch(`http://127.0.0.1:${ports.gateway}/v1/runs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ goal: 'goal:k8s over HTTP', runId: 'k8s-http' }),
    });
    expect(submitted.status).toBe(202);
    const goals = new Queue(QUEUES.goals, { connection: redis, prefix });
    await goals.add('goal', { goal: 'goal:k8s from a producer', runId: 'k8s-plain' });
    await goals.close();

    // Waiting goals wake the planner: the gateway's goal has a fair priority (prioritized), the producer's none (wait).
    const intake = await scalersUntil(
      ['planner'],
      'the planner woken by the goals',
      (r) => r.planner.counts['goals-wait'] === 1,
    );
    expect(intake.planner.counts).toMatchObject({ 'goals-wait': 1, 'goals-prioritized': 1 });
    expect(intake.planner.replicas).toBe(1);
    expect(await eventually(() => backlogGauge('goals'), { what: 'the goals backlog gauge' })).toBe(2);

    // A planner from zero: its probes answer on the health port the manifest names.
    await spawn('planner');
    const plannerProbes = await askProbes('planner');
    expect(plannerProbes.answers).toEqual({ startupProbe: 200, livenessProbe: 200, readinessProbe: 200 });
    expect(plannerProbes.readiness).toMatchObject({
      status: 'ok',
      info: { workers: { status: 'up' }, redis: { status: 'up' } },
    });

    // Its tool steps wait in act's `prioritized` set (every loop job has a priority): `wait` stays empty, the
    // executors wake on the sorted set. The planner's own keys are empty again: it could go back to zero.
    const acting = await scalersUntil(
      ['executor'],
      'four tool steps waiting for an executor',
      (r) => r.executor.counts['act-prioritized'] === 4,
    );
    expect(acting.executor.counts).toMatchObject({ 'act-wait': 0, 'act-prioritized': 4, 'act-active': 0 });
    expect(await eventually(async () => (await backlogGauge('act')) === 4, { what: 'the act backlog gauge' })).toBe(
      true,
    );

    await spawn('executor');
    expect((await askProbes('executor')).answers).toEqual({
      startupProbe: 200,
      livenessProbe: 200,
      readinessProbe: 200,
    });
    // Both iterations' judge stages wait for a judge once their steps are done (the fan-in parent moves on).
    const judging = await scalersUntil(
      ['judge'],
      'two judge stages waiting',
      (r) => r.judge.counts['judge-prioritized'] === 2,
    );
    expect(judging.judge.counts['judge-wait']).toBe(0);

    await spawn('judge');
    expect((await askProbes('judge')).answers).toEqual({ startupProbe: 200, livenessProbe: 200, readinessProbe: 200 });
    const store = new RunStore(redis, prefix);
    const ended = (runId: string) =>
      eventually(
        async () => {
          const r = await store.get(storeRunId(DEFAULT_TENANT, runId));
          return r && isTerminal(r.status) && r;
        },
        { what: `run ${runId} to end`, context: logs },
      );
    for (const runId of ['k8s-http', 'k8s-plain']) {
      expect(await ended(runId)).toMatchObject({ status: 'succeeded', answer: 'The sums are 3 and 7.' });
    }

    // A run whose tool steps wait at an approval gate: parked as delayed jobs, which keep one executor (and only
    // one) so that they are moved back when due; the others go to zero meanwhile.
    const gateway = (method: string, path: string, body?: unknown) =>
      fetch(`http://127.0.0.1:${ports.gateway}${path}`, {
        method,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    const gated = await gateway('POST', '/v1/runs', {
      goal: 'goal:k8s behind a gate',
      runId: 'k8s-gated',
      requireApproval: ['read'],
    });
    expect(gated.status).toBe(202);
    const parked = await scalersUntil(
      ['executor'],
      'two steps parked at the gate',
      (r) => r.executor.counts['act-delayed'] === 2,
    );
    expect(parked.executor).toMatchObject({ replicas: 1, counts: { 'act-prioritized': 0, 'act-active': 0 } });
    const { approvals } = (await (await gateway('GET', '/v1/runs/k8s-gated/approvals')).json()) as {
      approvals: { id: string }[];
    };
    expect(approvals).toHaveLength(2);
    for (const a of approvals) {
      expect((await gateway('POST', `/v1/runs/k8s-gated/approvals/${a.id}/approve`, {})).status).toBe(200);
    }

    expect(await ended('k8s-gated')).toMatchObject({ status: 'succeeded', answer: 'The sums are 3 and 7.' });

    // Every queue drained: KEDA would take every worker role back to zero after its cooldown.
    const idle = await scalersUntil([], 'every role idle after the runs');
    for (const role of WORKER_ROLES) expect(idle[role].replicas).toBe(0);

    // The keys the triggers read are the ones BullMQ keeps these jobs in, of the types the scaler counts.
    expect(Object.fromEntries([...typesSeen].map(([k, v]) => [k, [...v]]))).toMatchObject({
      wait: ['list'],
      prioritized: ['zset'],
      delayed: ['zset'],
    });

    // Scaled in: SIGTERM, in-flight work finished, exit 0 well inside the grace period.
    for (const role of WORKER_ROLES) {
      const proc = procs[role] as ServiceProcess;
      const grace = deploymentOf(role).spec.template.spec.terminationGracePeriodSeconds * 1000;
      await proc.stop(grace);
      expect([role, await proc.exited]).toEqual([role, 0]);
    }
  });
});
