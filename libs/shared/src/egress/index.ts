export * from './egress-error.js';
export * from './guarded-request.js';
export * from './ssrf-guard.js';
