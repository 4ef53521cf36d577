import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRedisConnection, masterNodes, type TriadConfig } from '@triad/shared';
import { Redis } from 'ioredis';
import { exitWithThisProcess } from './exit-with-this-process.js';

export interface RedisHandle {
  url: string;
  /** True when this process started the server (and stop() shuts it down). */
  started: boolean;
  stop(): Promise<void>;
}

export interface PrivateRedisHandle extends RedisHandle {
  port: number;
  pid: number;
  /** SIGKILL: a crash, with no chance to write more than it already has. Its data folder stays. */
  kill(): Promise<void>;
}

/** Whether a Redis answers PING at `url` within `timeoutMs` (a refusal for want of credentials is an answer). */
export async function redisAnswers(url: string, timeoutMs = 1_500): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  // A server that wants credentials refuses the handshake; the reason arrives as an error event, not a reply.
  let refused = false;
  client.on('error', (err: Error) => {
    if (/NOAUTH|WRONGPASS|NOPERM/.test(err.message)) refused = true;
  });
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return refused;
  } finally {
    client.disconnect();
  }
}

/** A free TCP port on the loopback interface. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * Starts a private `redis-server` on a free port (or the given one), non-persistent unless `args` say otherwise
 * (later arguments win). Its data lives in `dir` when given (kept, so a restart on the same port and folder finds
 * it), else in a temporary folder that stop() removes.
 */
export async function startPrivateRedis(
  opts: { port?: number; args?: string[]; dir?: string } = {},
): Promise<PrivateRedisHandle> {
  const port = opts.port ?? (await freePort());
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'triad-redis-')));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
  const child: ChildProcess = spawn('redis-server', [...args, ...(opts.args ?? [])], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-2_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  exitWithThisProcess(child);
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const url = `redis://127.0.0.1:${port}`;
  const removeDir = () => (opts.dir ? Promise.resolve() : rm(dir, { recursive: true, force: true }));
  for (let i = 0; i < 100; i++) {
    const failed = await Promise.race([spawnError, new Promise((r) => setTimeout(r, 50, null))]);
    if (failed) throw new Error(`cannot start redis-server: ${(failed as Error).message}`);
    if (child.exitCode !== null) break;
    if (await redisAnswers(url, 500)) {
      return {
        url,
        port,
        pid: child.pid as number,
        started: true,
        stop: () => stopChild(child).then(removeDir),
        kill: () => killChild(child),
      };
    }
  }
  await killChild(child);
  await removeDir();
  throw new Error(`redis-server did not answer on port ${port}:\n${output}`);
}

/**
 * A Redis for the local stack: the one at `url` when it answers, else a private `redis-server` when `url` points
 * at this machine, else an error that says how to get one.
 */
export async function ensureRedis(url: string): Promise<RedisHandle> {
  if (await redisAnswers(url)) return { url, started: false, stop: async () => {} };
  const { hostname, port } = new URL(url);
  if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(hostname)) {
    throw new Error(`no Redis answers at ${url}. Start it, or unset REDIS_URL to let Triad start a local one.`);
  }
  try {
    return await startPrivateRedis({ port: Number(port || 6379) });
  } catch (err) {
    throw new Error(
      `no Redis answers at ${url} and none could be started (${(err as Error).message}). ` +
        'Install Redis 7 (e.g. `apt-get install redis-server`) or set REDIS_URL to a running one.',
    );
  }
}

/**
 * The Redis Cluster of TRIAD_REDIS_CLUSTER, once its layout is known (its masters answer); never started here.
 */
export async function ensureCluster(
  config: Pick<TriadConfig, 'redisUrl' | 'redisCluster'>,
  timeoutMs = 10_000,
): Promise<RedisHandle> {
  const nodes = (config.redisCluster ?? []).map((n) => `${n.host}:${n.port}`).join(',');
  const client = createRedisConnection(config, 'triad-probe');
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      masterNodes(client),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no Redis Cluster answers at ${nodes} (TRIAD_REDIS_CLUSTER)`)),
          timeoutMs,
        );
      }),
    ]);
    return { url: config.redisUrl, started: false, stop: async () => {} };
  } finally {
    clearTimeout(timer);
    client.disconnect();
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

async function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}
