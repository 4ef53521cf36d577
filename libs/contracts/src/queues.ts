/**
 * Queue names are part of the public contract: renaming one strands every job already waiting in Redis.
 * Change them only with a new contract version.
 */
export const QUEUES = {
  goals: 'goals',
  plan: 'plan',
  act: 'act',
  judge: 'judge',
  results: 'results',
  webhooks: 'webhooks',
  archive: 'archive',
} as const;
export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

/** Job names, one per payload schema (see jobs.ts). */
export const JOB_NAMES = {
  goal: 'goal',
  plan: 'plan',
  act: 'act',
  judge: 'judge',
  runFinished: 'run.finished',
  webhook: 'deliver',
  approvalWebhook: 'approval',
  archive: 'archive',
  /** On the `judge` queue: distil lessons from an ended run into the tenant's semantic memory. */
  distill: 'distill',
} as const;
export type JobName = (typeof JOB_NAMES)[keyof typeof JOB_NAMES];
