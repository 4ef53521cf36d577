// Throughput on a Redis Cluster (3 masters, a replica each, on this machine) against one private redis-server, same
// load, same machine, one after the other: loops per second with 200 runs in flight, their ratio, and how the
// cluster's commands spread over its masters (the queues share the prefix's slot; run keys hash on the run).
import { masterNodes } from '@triad/shared';
import { RedisCluster } from '../cli/dist/stack/redis-cluster.js';
import {
  type BenchOptions,
  fmt,
  log,
  loopScript,
  onCleanup,
  percentile,
  redisCommandCalls,
  round,
  startModel,
  startPrivateRedis,
  startTriad,
} from './support.ts';
import { IN_FLIGHT, loopsPerSec } from './throughput.ts';

export async function measureRedisCluster(opts: BenchOptions) {
  const total = opts.quick ? 400 : 1000;
  const model = await startModel([loopScript('goal:loop')]);

  log(`cluster: Triad on one redis-server, ${total} runs, ${IN_FLIGHT} in flight`);
  const single = await startPrivateRedis();
  const onSingle = await startTriad({ model, redisUrl: single.url });
  const singleResult = await loopsPerSec(onSingle, total).finally(() => onSingle.stop());
  await single.stop();

  log(`cluster: Triad on a Redis Cluster (3 masters, 3 replicas), ${total} runs, ${IN_FLIGHT} in flight`);
  const cluster = await RedisCluster.start();
  const stopCluster = onCleanup('redis cluster', () => cluster.stop());
  try {
    const onCluster = await startTriad({ model, redisCluster: cluster.seeds });
    const queueMaster = await cluster.masterOf(`${onCluster.prefix}:goals`);
    let shares: { port: number; commands: number }[] = [];
    const clusterResult = await (async () => {
      const masters = await masterNodes(onCluster.redis);
      const before = await Promise.all(masters.map(redisCommandCalls));
      const r = await loopsPerSec(onCluster, total);
      const after = await Promise.all(masters.map(redisCommandCalls));
      shares = masters.map((m, i) => ({ port: Number(m.options.port), commands: (after[i] ?? 0) - (before[i] ?? 0) }));
      return r;
    })().finally(() => onCluster.stop());
    const all = shares.reduce((a, s) => a + s.commands, 0);
    const onQueueMaster = (shares.find((s) => s.port === queueMaster.port)?.commands ?? 0) / all;
    const ratio = clusterResult.perSec / singleResult.perSec;
    return {
      figures: {
        singleRedisLoopsPerSec200: round(singleResult.perSec, 1),
        clusterLoopsPerSec200: round(clusterResult.perSec, 1),
        clusterThroughputRatio: round(ratio, 3),
        clusterQueueMasterCommandShare: round(onQueueMaster, 3),
      },
      rows: [
        {
          measure: 'loops/s on one Redis (200 in flight)',
          value: fmt(singleResult.perSec),
          note: `${total} runs; latency p50 ${fmt(percentile(singleResult.latencies, 50))} ms`,
        },
        {
          measure: 'loops/s on a Redis Cluster (200 in flight)',
          value: fmt(clusterResult.perSec),
          note: `3 masters + 3 replicas, same machine; latency p50 ${fmt(percentile(clusterResult.latencies, 50))} ms`,
        },
        { measure: 'cluster / one Redis throughput', value: fmt(ratio, 3), note: 'same load, one run after the other' },
        {
          measure: "cluster commands on the queues' master",
          value: `${fmt(onQueueMaster * 100, 0)} %`,
          note: `commands per master: ${shares.map((s) => `${s.port}${s.port === queueMaster.port ? ' (queues)' : ''} ${s.commands}`).join(', ')}`,
        },
      ],
    };
  } finally {
    await stopCluster();
  }
}
