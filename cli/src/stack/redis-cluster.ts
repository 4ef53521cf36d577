import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';

const run = promisify(execFile);

/** Polls `probe` until it returns a value other than undefined, null or false; gives up after `timeoutMs`. */
async function eventually<T>(
  probe: () => Promise<T | null | undefined | false>,
  opts: { what: string; timeoutMs?: number },
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  let last: unknown;
  for (;;) {
    const value = await probe().catch((err: Error) => {
      last = err.message;
      return null;
    });
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${opts.what}${last ? `: ${last}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Whether a TCP port is free on the loopback interface. */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** One redis-server of the cluster. */
export interface ClusterNode {
  port: number;
  pid: number;
}

/**
 * A real Redis Cluster for a test or the bench: masters with a replica each (`redis-server --cluster-enabled yes`, joined by
 * `redis-cli --cluster create`), on free ports of a range (each port's cluster bus is the port + 10000), in a
 * temporary folder. Ready once every node reports `cluster_state:ok`.
 */
export class RedisCluster {
  private constructor(
    readonly nodes: ClusterNode[],
    private readonly dir: string,
  ) {}

  static async start(opts: { masters?: number; from?: number; to?: number } = {}): Promise<RedisCluster> {
    const count = (opts.masters ?? 3) * 2;
    const ports: number[] = [];
    for (let p = opts.from ?? 7100; p <= (opts.to ?? 7199) && ports.length < count; p++) {
      if ((await portFree(p)) && (await portFree(p + 10_000))) ports.push(p);
    }
    if (ports.length < count) throw new Error(`no ${count} free ports for a Redis Cluster`);
    const dir = await mkdtemp(path.join(tmpdir(), 'triad-cluster-'));
    const nodes: ClusterNode[] = [];
    const cluster = new RedisCluster(nodes, dir);
    try {
      for (const port of ports) {
        // Daemonized: redis-server has forked by the time it returns; its pid is asked for below.
        await run('redis-server', [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          `nodes-${port}.conf`,
          '--cluster-node-timeout',
          '2000',
          '--daemonize',
          'yes',
          '--save',
          '',
          '--appendonly',
          'no',
          '--dir',
          dir,
          '--logfile',
          `redis-${port}.log`,
        ]);
        const pid = await eventually(
          () => RedisCluster.info(port, 'server').then((i) => Number(/process_id:(\d+)/.exec(i)?.[1])),
          {
            what: `redis-server on port ${port}`,
          },
        );
        nodes.push({ port, pid });
      }
      await run('redis-cli', [
        '--cluster',
        'create',
        ...ports.map((p) => `127.0.0.1:${p}`),
        '--cluster-replicas',
        '1',
        '--cluster-yes',
      ]);
      await cluster.waitUntilOk(nodes);
      return cluster;
    } catch (err) {
      await cluster.stop();
      throw err;
    }
  }

  /** The seed nodes, as TRIAD_REDIS_CLUSTER takes them. */
  get seeds(): string {
    return this.nodes.map((n) => `127.0.0.1:${n.port}`).join(',');
  }

  /** The node that serves `key`'s slot as master now (as CLUSTER NODES on a live node says). */
  async masterOf(key: string): Promise<ClusterNode> {
    const seed = this.live()[0] as ClusterNode;
    const slot = Number(await RedisCluster.ask(seed.port, ['CLUSTER', 'KEYSLOT', key]));
    for (const line of String(await RedisCluster.ask(seed.port, ['CLUSTER', 'NODES'])).split('\n')) {
      const [, address = '', flags = '', , , , , , ...ranges] = line.split(' ');
      if (!flags.split(',').includes('master') || flags.includes('fail')) continue;
      const served = ranges.some((r) => {
        const [from, to = from] = r.split('-').map(Number);
        return slot >= (from as number) && slot <= (to as number);
      });
      const port = Number(/:(\d+)@/.exec(address)?.[1]);
      const node = this.nodes.find((n) => n.port === port);
      if (served && node) return node;
    }
    throw new Error(`no master serves slot ${slot}`);
  }

  /** The replica of a master (by its replication info). */
  async replicaOf(master: ClusterNode): Promise<ClusterNode> {
    const info = await RedisCluster.info(master.port, 'replication');
    const port = Number(/slave0:ip=[^,]+,port=(\d+)/.exec(info)?.[1]);
    const replica = this.nodes.find((n) => n.port === port);
    if (!replica) throw new Error(`master ${master.port} has no replica`);
    return replica;
  }

  /** SIGKILL: a crash of that node. */
  kill(node: ClusterNode): void {
    process.kill(node.pid, 'SIGKILL');
    this.dead.add(node.port);
  }

  /** Waits until `node` is a master and every live node reports the cluster ok again. */
  async waitForTakeover(node: ClusterNode): Promise<void> {
    await eventually(async () => /role:master/.test(await RedisCluster.info(node.port, 'replication')), {
      what: `node ${node.port} to take over as master`,
      timeoutMs: 60_000,
    });
    await this.waitUntilOk(this.live());
  }

  async stop(): Promise<void> {
    for (const n of this.live()) {
      try {
        process.kill(n.pid, 'SIGKILL');
      } catch {}
    }
    await rm(this.dir, { recursive: true, force: true });
  }

  private readonly dead = new Set<number>();
  private live(): ClusterNode[] {
    return this.nodes.filter((n) => !this.dead.has(n.port));
  }

  private async waitUntilOk(nodes: ClusterNode[]): Promise<void> {
    for (const n of nodes) {
      await eventually(
        async () => /cluster_state:ok/.test(String(await RedisCluster.ask(n.port, ['CLUSTER', 'INFO']))),
        {
          what: `cluster_state:ok on node ${n.port}`,
          timeoutMs: 60_000,
        },
      );
    }
  }

  private static info(port: number, section: string): Promise<string> {
    return RedisCluster.ask(port, ['INFO', section]).then(String);
  }

  /** One command to one node, on a short-lived plain connection. */
  private static async ask(port: number, command: string[]): Promise<unknown> {
    const client = new Redis({
      port,
      host: '127.0.0.1',
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    client.on('error', () => {});
    try {
      await client.connect();
      return await client.call(command[0] as string, ...command.slice(1));
    } finally {
      client.disconnect();
    }
  }
}
