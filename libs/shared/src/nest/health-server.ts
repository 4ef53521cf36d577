import { createServer, type Server } from 'node:http';
import type { RedisClient } from '../queue/redis-connection.js';

/** Paths of the health listener; the same as the gateway's, so one probe spec fits every service. */
export const HEALTH_PATHS = { live: '/healthz', ready: '/readyz' } as const;

const PING_TIMEOUT_MS = 2_000;

/** What readiness looks at: a worker is ready while it runs (BullMQ's Worker fits). */
export interface RunningWorker {
  readonly name: string;
  isRunning(): boolean;
}

export interface HealthServer {
  /** Readiness may now pass: the application is built and its workers were started. */
  ready(workers: RunningWorker[]): void;
  /** Readiness fails from now on (shutting down); liveness still answers until close. */
  draining(): void;
  close(): Promise<void>;
  readonly port: number;
}

/**
 * The health listener of a worker service (planner, executor, judge): plain node:http on its own port, started
 * before the application is built so liveness answers during boot. `/healthz` answers 200 while the event loop
 * turns (answering is the proof); `/readyz` answers 200 once the workers run and Redis answers PING within 2 s,
 * else 503 with the reasons. Both reply JSON shaped like the gateway's (terminus): `{ status, info?, error? }`.
 */
export async function startHealthServer(port: number, redis: RedisClient): Promise<HealthServer> {
  let workers: RunningWorker[] | undefined;
  let draining = false;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, { status: 'error' });
    if (path === HEALTH_PATHS.live) return reply(200, { status: 'ok', info: {}, error: {}, details: {} });
    if (path !== HEALTH_PATHS.ready) return reply(404, { status: 'error', message: 'not found' });
    void readiness().then(({ ok, info, error }) => reply(ok ? 200 : 503, { status: ok ? 'ok' : 'error', info, error }));
  });

  async function readiness() {
    const info: Record<string, { status: 'up' | 'down'; message?: string }> = {};
    const down = (key: string, message: string) => {
      info[key] = { status: 'down', message };
    };
    if (draining) down('service', 'shutting down');
    else if (!workers) down('service', 'starting');
    else if (!workers.length) down('workers', 'no workers');
    else {
      const stopped = workers.filter((w) => !w.isRunning()).map((w) => w.name);
      if (stopped.length) down('workers', `not running: ${stopped.join(', ')}`);
      else info.workers = { status: 'up' };
    }
    // The shared connection queues commands while Redis is away; readiness must answer, not wait.
    const timeout = new Promise<string>((r) => setTimeout(r, PING_TIMEOUT_MS, 'no reply to PING within 2 s').unref());
    const reply = await Promise.race([redis.ping().catch((e: Error) => e.message), timeout]);
    if (reply === 'PONG') info.redis = { status: 'up' };
    else down('redis', String(reply));
    const error = Object.fromEntries(Object.entries(info).filter(([, v]) => v.status === 'down'));
    return { ok: Object.keys(error).length === 0, info, error };
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new Error(`TRIAD_HEALTH_PORT ${port}: ${err.message}`)));
    // Every address (dual-stack where the host has IPv6): the kubelet probes the pod's IP.
    server.listen(port, () => resolve());
  });
  // Probes open a connection each time; none must hold the process open at shutdown.
  server.keepAliveTimeout = 1_000;
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : port,
    ready: (w) => {
      workers = w;
    },
    draining: () => {
      draining = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
