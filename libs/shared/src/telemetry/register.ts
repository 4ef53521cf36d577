// The telemetry preload: `node --import <this file> services/<role>/dist/main.js`. It runs before the service's own
// imports, so the tracer provider is in place for their first span and the HTTP instrumentation (loaded only when
// exporting) patches `http` before anything sends a request; it imports only the telemetry block of the configuration.
import { loadTelemetryConfig } from '../config/triad-config.js';
import { ConfigError } from '../errors/triad-error.js';
import { startTelemetry } from './telemetry-sdk.js';
import { roleFromEntry } from './telemetry-state.js';

const role = roleFromEntry(process.argv[1]);
try {
  await startTelemetry(role, loadTelemetryConfig());
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(`triad ${role}: ${err.message}`);
  process.exit(2);
}
