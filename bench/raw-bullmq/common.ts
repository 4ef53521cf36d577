// The baseline's plumbing: plain BullMQ, no run store, no validation, no telemetry. Each handler only adds the next
// hop's job, with the same job options (retries, history) and deterministic job ids as Triad's stages.
import { type Job, type JobsOptions, Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';

const url = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const prefix = process.env.RAW_PREFIX || 'rawbench';
const concurrency = Number(process.env.RAW_CONCURRENCY || 16);
const connection = () => new Redis(url, { maxRetriesPerRequest: null });
const producer = connection();
const queues = new Map<string, Queue>();

export interface Hop {
  runId: string;
  iteration: number;
  kind?: 'observe' | 'answer';
}

const options: JobsOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 1_000 },
  removeOnComplete: { age: 24 * 3600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

/** Adds the next hop's job. */
export async function next(queue: string, jobId: string, data: Hop | Record<string, unknown>): Promise<void> {
  let q = queues.get(queue);
  if (!q) {
    q = new Queue(queue, { connection: producer, prefix });
    queues.set(queue, q);
  }
  await q.add(queue, data, { ...options, jobId });
}

/** Consumes `queues` in this process until SIGTERM. */
export async function serve(role: string, handlers: Record<string, (job: Job<Hop>) => Promise<void>>): Promise<void> {
  const workers = Object.entries(handlers).map(
    ([queue, handler]) => new Worker(queue, handler, { connection: connection(), prefix, concurrency }),
  );
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  const stop = async () => {
    await Promise.all(workers.map((w) => w.close()));
    await Promise.all([...queues.values()].map((q) => q.close()));
    producer.disconnect();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  console.log(`raw ${role} ready (prefix ${prefix})`);
}
