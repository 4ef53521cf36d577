// Run data that ends (issue: Redis grows until it stops): Redis used memory after a batch of runs has come and its
// retention has passed, over used memory before the batch. "Before" is a fleet at steady state: the stack has run a
// warm-up batch (also past its retention), so what stays is what any running fleet holds whatever its history: the
// queues' metadata, the tool catalog, and BullMQ's event streams, which BullMQ caps (10 000 entries a queue).
import { createRedisConnection } from '@triad/shared';
import {
  type BenchOptions,
  drive,
  fmt,
  log,
  loopScript,
  redisUsedMemory,
  round,
  sleep,
  startModel,
  startPrivateRedis,
  startTriad,
} from './support.ts';

const RETENTION_MS = 4_000;

export async function measureRetention(opts: BenchOptions) {
  const runs = opts.quick ? 1000 : 5000;
  const warmup = 3000; // enough jobs to fill the queues' capped event streams
  const server = await startPrivateRedis();
  const model = await startModel([loopScript('goal:loop')]);
  const triad = await startTriad({ model, redisUrl: server.url, env: { TRIAD_RUN_RETENTION: `${RETENTION_MS}ms` } });
  const redis = createRedisConnection(server.url, 'bench-retention');
  try {
    /** Waits past the retention and two sweeps, then reads used memory (after an idle moment, as Redis frees lazily). */
    const settled = async () => {
      await sleep(RETENTION_MS + 2 * Math.max(1_000, RETENTION_MS / 2) + 1_000);
      return { bytes: await redisUsedMemory(redis), keys: await redis.dbsize() };
    };
    log(`retention: warm-up of ${warmup} runs (retention ${RETENTION_MS} ms)`);
    await drive(warmup, 200, (id) => triad.run(id, 'goal:loop'), 'retention-warm');
    const before = await settled();
    log(`retention: ${runs} runs`);
    await drive(runs, 200, (id) => triad.run(id, 'goal:loop'), 'retention');
    const during = { bytes: await redisUsedMemory(redis), keys: await redis.dbsize() };
    const after = await settled();
    const ratio = after.bytes / before.bytes;
    return {
      figures: {
        redisBytesAfterRetentionRatio: round(ratio, 3),
        redisBytesBeforeRetentionBatch: before.bytes,
        redisBytesAfterRetentionBatch: after.bytes,
        redisKeysAfterRetentionBatch: after.keys,
        redisKeysBeforeRetentionBatch: before.keys,
      },
      rows: [
        {
          measure: `Redis used memory after ${runs} runs expired / before`,
          value: fmt(ratio, 3),
          note: `${fmt(before.bytes / 1e6, 2)} MB -> ${fmt(during.bytes / 1e6, 2)} MB at the batch's end -> ${fmt(after.bytes / 1e6, 2)} MB; keys ${before.keys} -> ${during.keys} -> ${after.keys}; target <= 1.05`,
        },
      ],
    };
  } finally {
    redis.disconnect();
    await triad.stop();
    await model.close();
    await server.stop();
  }
}
