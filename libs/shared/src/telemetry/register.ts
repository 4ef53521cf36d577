// The telemetry preload: `node --import <this file> services/<role>/dist/main.js`. It must run before anything it
// instruments (ioredis, http) is imported, so it imports only the telemetry block of the configuration.
import { register } from 'node:module';
import { loadTelemetryConfig } from '../config/triad-config.js';
import { ConfigError } from '../errors/triad-error.js';
import { startTelemetry } from './telemetry-sdk.js';
import { roleFromEntry } from './telemetry-state.js';

// ESM imports are only instrumentable through a loader hook; it applies to modules loaded after this one.
register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
const role = roleFromEntry(process.argv[1]);
try {
  startTelemetry(role, loadTelemetryConfig());
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(`triad ${role}: ${err.message}`);
  process.exit(2);
}
