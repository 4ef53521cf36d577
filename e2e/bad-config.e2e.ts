// "A bad config value stops the service and names the variable", on real processes: the parser's table over every
// variable is libs/shared/src/config/triad-config.spec.ts; here each role, through both places that parse
// (the telemetry preload and the service's boot), exits non-zero with the variable's name in its output.
import { describe, expect, it } from '@jest/globals';
import { type ServiceRole, spawnService } from '../cli/src/stack/service-processes.js';
import { REDIS_URL } from './support/triad-harness.js';

/** Starts a service expected to refuse its configuration; resolves with its exit code and output. */
async function refusal(role: ServiceRole, env: Record<string, string>): Promise<{ code: string; output: string }> {
  const base = { PATH: process.env.PATH, REDIS_URL, TRIAD_PREFIX: 'bad-config', TRIAD_GATEWAY_PORT: '0' };
  const err = await spawnService({ role, env: { ...base, ...env } }).then(
    async (proc) => {
      await proc.stop();
      throw new Error(`${role} started with ${JSON.stringify(env)}`);
    },
    (e: Error) => e,
  );
  const [head = '', ...rest] = err.message.split('\n');
  return { code: head.replace(`${role} `, '').replace(/:$/, ''), output: rest.join('\n') };
}

describe('a service given a bad configuration value', () => {
  it.each([
    ['planner', 'TRIAD_JOB_ATTEMPTS', '0'],
    ['executor', 'TRIAD_APPROVAL_RISKS', 'dangerous'],
    ['executor', 'TRIAD_HTTP_ALLOW_HOSTS', '10.0.0.0/99'],
    ['judge', 'TRIAD_JUDGE_POLICY', 'sometimes'],
    ['gateway', 'TRIAD_GATEWAY_HOST', 'not a host!'],
    // Read by the telemetry preload, before the service's own code runs.
    ['planner', 'TRIAD_LOG_LEVEL', 'verbose'],
    ['gateway', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'jaeger:4318'],
  ] as const)('the %s exits with code 2 naming %s', async (role, name, value) => {
    const { code, output } = await refusal(role, { [name]: value });
    expect(code).toBe('exited with code 2');
    expect(output).toMatch(new RegExp(`invalid configuration:(\\\\n|\\n)\\s+${name}[.:]`));
    expect(output).not.toMatch(/\bready \(prefix /);
  });
});
