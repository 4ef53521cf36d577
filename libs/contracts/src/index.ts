// @triad/contracts: the zod schemas (and their types) of every payload Triad exchanges, and the result webhook's
// signature check. Published on its own so producers and clients parse the same shapes without the services' plumbing.
export * from './approval.js';
export * from './approval-webhook.js';
export * from './goal-request.js';
export * from './http-api.js';
export * from './jobs.js';
export * from './memory.js';
export * from './observation.js';
export * from './output-schema.js';
export * from './queues.js';
export * from './results-queue.js';
export * from './run-events.js';
export * from './run-id.js';
export * from './run-record.js';
export * from './steps.js';
export * from './tool-spec.js';
export * from './webhook-outcome.js';
export * from './webhooks/webhook-signature.js';
