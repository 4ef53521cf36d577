// Redis work per loop on a private redis-server (so nobody else's commands are counted): INFO commandstats calls and
// used_memory before and after a batch of runs, for Triad and for the plain BullMQ chain. Counts include the
// bench's own producer and results consumer and the workers' polling during the batch, on both sides.
import { createRedisConnection } from '@triad/shared';
import {
  type BenchOptions,
  drive,
  fmt,
  type LoopSystem,
  log,
  loopScript,
  redisCommandCalls,
  redisUsedMemory,
  round,
  sleep,
  startModel,
  startPrivateRedis,
  startRaw,
  startTriad,
} from './support.ts';

async function cost(system: LoopSystem, redisUrl: string, runs: number) {
  const redis = createRedisConnection(redisUrl, 'bench-info');
  try {
    await drive(50, 50, (id) => system.run(id, 'goal:loop'), `${system.name}-warm`);
    await sleep(500);
    const calls0 = await redisCommandCalls(redis);
    const mem0 = await redisUsedMemory(redis);
    await drive(runs, 200, (id) => system.run(id, 'goal:loop'), `${system.name}-redis`);
    const calls1 = await redisCommandCalls(redis);
    await sleep(500);
    const mem1 = await redisUsedMemory(redis);
    // The INFO calls themselves: two.
    return { commandsPerLoop: (calls1 - calls0 - 2) / runs, bytesPerRun: (mem1 - mem0) / runs };
  } finally {
    redis.disconnect();
  }
}

export async function measureRedisCost(opts: BenchOptions) {
  const runs = opts.quick ? 200 : 600;
  const server = await startPrivateRedis();
  try {
    log(`redis cost: raw BullMQ chain, ${runs} runs on a private redis-server`);
    const raw = await startRaw({ redisUrl: server.url });
    const rawCost = await cost(raw, server.url, runs).finally(() => raw.stop());
    log(`redis cost: Triad, ${runs} runs on a private redis-server`);
    const model = await startModel([loopScript('goal:loop')]);
    const triad = await startTriad({ model, redisUrl: server.url });
    const triadCost = await cost(triad, server.url, runs).finally(() => triad.stop());
    return {
      figures: {
        redisCommandsPerLoop: round(triadCost.commandsPerLoop, 1),
        redisCommandsPerLoopRatio: round(triadCost.commandsPerLoop / rawCost.commandsPerLoop, 2),
        rawRedisCommandsPerLoop: round(rawCost.commandsPerLoop, 1),
        redisBytesPerRun: Math.round(triadCost.bytesPerRun),
        rawRedisBytesPerRun: Math.round(rawCost.bytesPerRun),
      },
      rows: [
        {
          measure: 'Redis commands per loop, Triad / raw',
          value: `${fmt(triadCost.commandsPerLoop)} / ${fmt(rawCost.commandsPerLoop)}`,
          note: `INFO commandstats delta over ${runs} runs (200 in flight); ratio ${fmt(triadCost.commandsPerLoop / rawCost.commandsPerLoop)}, target <= 1.3`,
        },
        {
          measure: 'Redis bytes per finished run, Triad / raw',
          value: `${fmt(triadCost.bytesPerRun, 0)} / ${fmt(rawCost.bytesPerRun, 0)}`,
          note: 'used_memory delta after the runs ended (run record, events, job history kept)',
        },
      ],
    };
  } finally {
    await server.stop();
  }
}
