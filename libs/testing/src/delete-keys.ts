import { masterNodes, type RedisClient } from '@triad/shared';

/**
 * Deletes every key under `prefix`, walking the keyspace with SCAN (KEYS would block a shared Redis); on a Redis
 * Cluster, the keyspace of every master, one key at a time (a multi-key DEL must stay within one slot).
 */
export async function deleteKeys(redis: RedisClient, prefix: string): Promise<void> {
  for (const node of await masterNodes(redis)) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (!keys.length) continue;
      if (node === redis) await node.del(...keys);
      else await Promise.all(keys.map((k) => node.del(k)));
    } while (cursor !== '0');
  }
}
