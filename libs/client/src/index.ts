export * from './client-errors.js';
export { compareStreamIds, type EventStreamOptions } from './run-event-stream.js';
export * from './sse-parser.js';
export * from './triad-client.js';
