import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { TriadConfig } from '../config/triad-config.js';

/** Redis as Triad uses it: one Redis, or a Redis Cluster through ioredis' cluster client (BullMQ takes either). */
export type RedisClient = Redis | Cluster;

/** Where Redis is: REDIS_URL, and the seed nodes of TRIAD_REDIS_CLUSTER when set. */
export type RedisTarget = Pick<TriadConfig, 'redisUrl' | 'redisCluster'>;

// Commands wait while Redis is away (maxRetriesPerRequest: null) instead of failing; reconnects back off up to 2 s.
const retryStrategy = (times: number) => Math.min(100 * 2 ** times, 2_000);

/**
 * The one place Triad opens a Redis connection (services, gateway, CLI, tests and bench): fit for BullMQ and the run
 * store. With `redisCluster` set it is an ioredis Cluster: the seed nodes are asked for the cluster's layout, and
 * REDIS_URL gives only the credentials and TLS (`rediss:`) every node is reached with. A command that meets a
 * failover (its node gone, or CLUSTERDOWN while a replica takes over) waits and is sent again, for about 20 s.
 */
export function createRedisConnection(url: string, name: string): Redis;
export function createRedisConnection(target: RedisTarget, name: string): RedisClient;
export function createRedisConnection(target: RedisTarget | string, name: string): RedisClient {
  const { redisUrl, redisCluster } =
    typeof target === 'string' ? { redisUrl: target, redisCluster: undefined } : target;
  const options: RedisOptions = { connectionName: name, maxRetriesPerRequest: null, enableReadyCheck: true };
  if (!redisCluster) return new Redis(redisUrl, { ...options, retryStrategy });
  const url = new URL(redisUrl);
  return new Cluster(redisCluster, {
    redisOptions: {
      ...options,
      username: decodeURIComponent(url.username) || undefined,
      password: decodeURIComponent(url.password) || undefined,
      tls: url.protocol === 'rediss:' ? {} : undefined,
    },
    clusterRetryStrategy: retryStrategy,
    // No cluster ready check (CLUSTER INFO must say cluster_state:ok before the client is ready). When that check
    // fails, during a failover, ioredis reconnects on its own but never settles the promise of the connect() that
    // started it; BullMQ awaits exactly that promise when its worker resets its blocking connection, and the worker
    // then never asks for a job again. Without the check, connect() settles once the slots are known, and a command
    // that meets the cluster down is retried (retryDelayOnClusterDown) as on a connection that never dropped.
    enableReadyCheck: false,
    // A master's failover takes cluster-node-timeout and then some: redirections and retries cover about 20 s.
    maxRedirections: 64,
    retryDelayOnFailover: 300,
    retryDelayOnClusterDown: 300,
    retryDelayOnTryAgain: 300,
  });
}

/** Whether the connection is a Redis Cluster client. */
export const isCluster = (client: RedisClient): client is Cluster => client instanceof Cluster;

/**
 * A second connection to the same Redis, for a blocking command or a subscription (which hold a connection): a
 * plain connection to one Redis, or a cluster client that reaches the node of each key.
 */
export function duplicateConnection(client: RedisClient, name: string): RedisClient {
  if (isCluster(client)) {
    return client.duplicate(undefined, { redisOptions: { ...client.options.redisOptions, connectionName: name } });
  }
  return client.duplicate({ connectionName: name });
}

/**
 * The masters to ask about server-wide state (INFO, CONFIG, SCAN): the one Redis, or every master of the cluster
 * once its layout is known.
 */
export async function masterNodes(client: RedisClient): Promise<Redis[]> {
  if (!isCluster(client)) return [client];
  if (client.status !== 'ready') {
    await new Promise<void>((resolve, reject) => {
      const ready = () => {
        client.off('error', failed);
        resolve();
      };
      const failed = (err: Error) => {
        if (client.status === 'end') {
          client.off('ready', ready);
          reject(err);
        }
      };
      client.once('ready', ready);
      client.on('error', failed);
    });
  }
  return client.nodes('master');
}
