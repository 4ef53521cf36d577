// The contracts alone (zod schemas and their types), importable as `@triad/shared/contracts` by clients that
// must not load the services' plumbing (Nest, BullMQ, OpenTelemetry) just to parse a payload.
export * from './approval.js';
export * from './approval-webhook.js';
export * from './goal-request.js';
export * from './http-api.js';
export * from './jobs.js';
export * from './observation.js';
export * from './queues.js';
export * from './results-queue.js';
export * from './run-events.js';
export * from './run-id.js';
export * from './run-record.js';
export * from './steps.js';
export * from './tool-spec.js';
export * from './webhook-outcome.js';
