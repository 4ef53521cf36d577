// A client generated from the OpenAPI document a running gateway serves (@hey-api/openapi-ts: an SDK whose functions
// are named after the operationIds), type-checked and compiled with tsc, then run as its own process against the
// real gateway in front of a real Triad: submit, get, list, follow the event stream, and a typed error answer.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from '@hey-api/openapi-ts';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Scenario } from '@triad/testing';
import { COMMAND_WAIT_MS, WatchedChild } from './support/child-process.js';
import { GatewayClient } from './support/gateway-harness.js';
import { acceptedScript as script } from './support/scripts.js';
import { TriadHarness } from './support/triad-harness.js';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const KEY = 'k-sdk-1';
const scenario: Scenario = { scripts: [script('quick', [{ content: 'Done at once.' }])] };
let triad: TriadHarness;
let gw: GatewayClient;
let dir: string;

/** Runs a command to its end; a non-zero exit fails with what it printed. */
async function run(cmd: string, args: string[], cwd: string): Promise<string> {
  const child = new WatchedChild(spawn(cmd, args, { cwd }));
  const r = await child.exit({ what: `${cmd} ${args.join(' ')}` });
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.code}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

// Uses only the generated SDK: its functions, its types, its SSE reader.
const CONSUMER = `import { client } from './gen/client.gen.js';
import { getRun, listRuns, streamRunEvents, submitRun } from './gen/sdk.gen.js';
import type { RunRecord } from './gen/types.gen.js';

const [baseUrl, key] = process.argv.slice(2);
client.setConfig({ baseUrl, auth: () => key });

const submitted = await submitRun({
  body: { goal: 'goal:quick', runId: 'sdk-run-1', metadata: { via: 'generated-sdk' } },
  headers: { 'Idempotency-Key': 'sdk-order-1' },
  throwOnError: true,
});
const runId: string = submitted.data.runId;

const types: string[] = [];
const { stream } = await streamRunEvents({ path: { id: runId } });
for await (const event of stream) {
  types.push(event.type);
  if (event.type === 'status.changed' && event.to !== 'running') break;
}

const run: RunRecord = (await getRun({ path: { id: runId }, throwOnError: true })).data;
const page = await listRuns({ query: { status: 'succeeded', limit: 10 }, throwOnError: true });
const missing = await getRun({ path: { id: 'no-such-run' } });
// @ts-expect-error the SDK knows a goal is text
await submitRun({ body: { goal: 42 } }).catch(() => undefined);

console.log(JSON.stringify({
  submitted: submitted.data,
  status: submitted.response.status,
  types,
  run: { id: run.id, status: run.status, answer: run.answer, metadata: run.request?.metadata },
  listed: page.data.runs.map((r) => r.id),
  missing: { status: missing.response?.status, code: missing.error?.error.code },
}));
`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'triad-sdk-'));
  triad = await TriadHarness.start({ scenario, executors: 1, env: { TRIAD_JUDGE_POLICY: 'checks' } });
  gw = await GatewayClient.start(triad, { TRIAD_API_KEYS: `sdk:${KEY}:submit+read` });
});
afterAll(async () => {
  await triad?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('a client generated from the served OpenAPI document', () => {
  it(
    'compiles, and submits, follows, reads and lists runs on a real gateway',
    async () => {
      const served = await gw.call('GET', '/openapi.json');
      expect(served.status).toBe(200);
      await createClient({
        input: served.body,
        output: { path: join(dir, 'gen') },
        plugins: ['@hey-api/client-fetch', '@hey-api/sdk', '@hey-api/typescript'],
        logs: { level: 'silent' },
      });
      await writeFile(join(dir, 'use.ts'), CONSUMER);
      await writeFile(join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
      await writeFile(
        join(dir, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            target: 'ES2024',
            module: 'NodeNext',
            moduleResolution: 'NodeNext',
            strict: true,
            outDir: 'out',
            types: ['node'],
            typeRoots: [join(REPO_ROOT, 'node_modules/@types')],
          },
          files: ['use.ts'],
        }),
      );
      await run(process.execPath, [join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], dir);

      const out = JSON.parse(await run(process.execPath, ['out/use.js', gw.url, KEY], dir));
      expect(out.status).toBe(202);
      expect(out.submitted).toEqual({ runId: 'sdk-run-1', created: true, url: '/v1/runs/sdk-run-1' });
      expect(out.types[0]).toBe('goal.received');
      expect(out.types.at(-1)).toBe('status.changed');
      expect(out.run).toEqual({
        id: 'sdk-run-1',
        status: 'succeeded',
        answer: 'Done at once.',
        metadata: { via: 'generated-sdk' },
      });
      expect(out.listed).toContain('sdk-run-1');
      expect(out.missing).toEqual({ status: 404, code: 'not_found' });
    },
    COMMAND_WAIT_MS,
  );
});
