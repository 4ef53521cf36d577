import { isResultsQueue, JOB_NAMES, JOBS, type JobData, type JobName } from '@triad/contracts';
import type { Job, JobsOptions, Queue } from 'bullmq';
import { InvalidInputError } from '../errors/triad-error.js';

/** Adds a job after checking its payload against the contract, so nothing malformed enters a queue. */
export async function addJob<N extends JobName>(
  queue: Queue,
  name: N,
  data: JobData<N>,
  opts: JobsOptions & { jobId: string },
): Promise<Job> {
  const { queue: expected, schema } = JOBS[name];
  const fits = name === JOB_NAMES.runFinished ? isResultsQueue(queue.name) : queue.name === expected;
  if (!fits) throw new Error(`job ${name} belongs on queue ${expected}, not ${queue.name}`);
  return queue.add(name, schema.parse(data), opts);
}

/** Parses a consumed job's payload against the contract for its name; malformed data is an InvalidInputError. */
export function parseJob<N extends JobName>(name: N, job: Pick<Job, 'name' | 'data' | 'id'>): JobData<N> {
  if (job.name !== name) throw new InvalidInputError(`job ${job.id} is named "${job.name}", expected "${name}"`);
  const parsed = JOBS[name].schema.safeParse(job.data);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new InvalidInputError(`invalid ${name} job ${job.id}: ${issues.join('; ')}`);
  }
  return parsed.data as JobData<N>;
}
