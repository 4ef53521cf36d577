// The `triad` CLI as a real binary against a real gateway, planner, executor and judge with the scripted model:
// a followed run to its answer, an approval gate released by a second CLI call, JSON output, and clear errors.
// `triad up` and the launcher: e2e/triad-up.e2e.ts.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { RunRecord, StoredRunEvent } from '@triad/shared';
import { type Scenario } from '@triad/testing';
import { REPO_ROOT } from '../cli/src/stack/service-processes.js';
import { type ChildRun, WatchedChild } from './support/child-process.js';
import { EffectServer } from './support/effect-server.js';
import { GatewayClient } from './support/gateway-harness.js';
import { ACCEPT, acceptedScript, calc, postWebhook } from './support/scripts.js';
import { TriadHarness } from './support/triad-harness.js';

const scenario: Scenario = {
  scripts: [
    // Three runs of it (follow, trace, JSON), each judged once.
    acceptedScript(
      'calc',
      [{ content: 'Add.', toolCalls: [calc('c1', '2+3')] }, { content: 'The sum is {{tool:c1.data.result}}.' }],
      [ACCEPT, ACCEPT, ACCEPT],
    ),
    acceptedScript('quick', [{ content: 'Done at once.' }]),
    acceptedScript('gated', [
      { content: 'Notify.', toolCalls: [postWebhook('g1', 'cli-gate', 'from the CLI test')] },
      { content: 'Sent: {{tool:g1.ok}}.' },
    ]),
  ],
};

const KEY = 'k-cli-admin';
let triad: TriadHarness;
let effects: EffectServer;
let gw: GatewayClient;

beforeAll(async () => {
  effects = await EffectServer.start();
  triad = await TriadHarness.start({ scenario, executors: 1, env: { TRIAD_WEBHOOK_URL: `${effects.url}/hook` } });
  gw = await GatewayClient.start(triad, { TRIAD_API_KEYS: `cli-admin:${KEY}:admin` });
});
afterAll(async () => {
  await triad?.stop();
  await effects?.close();
});

/** Runs `node cli/dist/triad.js ...args` against the test gateway, to its end. */
function cli(args: string[], env: Record<string, string | undefined> = {}): Promise<ChildRun> {
  return startCli(args, env).exit({ what: `triad ${args.join(' ')} to end`, context: () => triad.serviceLogs() });
}

function startCli(args: string[], env: Record<string, string | undefined>): WatchedChild {
  const child = spawn(process.execPath, [`${REPO_ROOT}cli/dist/triad.js`, ...args], {
    env: { PATH: process.env.PATH, TRIAD_URL: gw?.url, TRIAD_API_KEY: KEY, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new WatchedChild(child);
}

/** A calculator run of this test's own, ended before the test looks at it. */
async function calcRun(runId: string): Promise<void> {
  const r = await cli(['submit', '--wait', '--run-id', runId, 'goal:calc']);
  expect(r).toMatchObject({ code: 0, stderr: '' });
}

describe('triad CLI', () => {
  it('submit --follow shows the loop live and ends with the answer, exit 0', async () => {
    const r = await cli(['submit', '--follow', '--run-id', 'cli-calc', 'goal:calc']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/^submitted run cli-calc$/m);
    expect(r.stdout).toMatch(/── iteration 1 · interpret/);
    expect(r.stdout).toMatch(/act {7}calculator\(\{"expression":"2\+3"\}\) {2}\[1-0\]/);
    expect(r.stdout).toMatch(/observe {3}calculator \[1-0\] .* ok .*"result":5/);
    expect(r.stdout).toMatch(/── iteration 2 · /);
    expect(r.stdout).toMatch(/^run cli-calc succeeded in .* 2 iterations · 1 tool calls/m);
    expect(r.stdout).toMatch(/^answer: The sum is 5\.$/m);
  });

  it('trace shows the loop as a tree under the run’s trace id, with a Jaeger link only when Jaeger holds it', async () => {
    await calcRun('cli-trace');
    const traceId = (await triad.store.get('cli-trace'))?.traceparent?.split('-')[1];
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    // Jaeger's query API as its UI uses it: this trace is there once `held` says so, no other.
    let held = false;
    const jaeger = createServer((req, res) => {
      const found = held && req.url === `/api/traces/${traceId}`;
      res.writeHead(found ? 200 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify(found ? { data: [{ traceID: traceId, spans: [] }] } : { data: null }));
    });
    await new Promise<void>((r) => jaeger.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(jaeger.address() as AddressInfo).port}`;
    try {
      const missing = await cli(['trace', 'cli-trace', '--jaeger', `${url}/`]);
      expect(missing).toMatchObject({ code: 0, stderr: '' });
      expect(missing.stdout).toContain(
        `jaeger: ${url} has no trace ${traceId}: nothing of this run was exported there`,
      );
      expect(missing.stdout).not.toContain('/trace/');
      held = true;
      const r = await cli(['trace', 'cli-trace', '--jaeger', `${url}/`]);
      expect(r).toMatchObject({ code: 0, stderr: '' });
      expect(r.stdout).toMatch(new RegExp(`^trace ${traceId}$`, 'm'));
      expect(r.stdout).toContain(`jaeger ${url}/trace/${traceId}`);
      expect(r.stdout).toMatch(/calculator/);
      expect(r.stdout).toMatch(/iteration 2/);
    } finally {
      jaeger.close();
    }
  });

  it('prints machine-readable JSON with --json', async () => {
    await calcRun('cli-json');
    const waited = await cli(['submit', '--wait', '--json', '--run-id', 'cli-wait', 'goal:quick']);
    expect(waited.code).toBe(0);
    expect(JSON.parse(waited.stdout) as RunRecord).toMatchObject({ id: 'cli-wait', status: 'succeeded' });

    const status = await cli(['status', 'cli-json', '--json']);
    expect(JSON.parse(status.stdout) as RunRecord).toMatchObject({ status: 'succeeded', answer: 'The sum is 5.' });

    const list = await cli(['--json', 'list', '--status', 'succeeded']);
    const ids = (JSON.parse(list.stdout) as { runs: RunRecord[] }).runs.map((run) => run.id);
    expect(ids).toEqual(expect.arrayContaining(['cli-json', 'cli-wait']));

    const events = await cli(['events', 'cli-json', '--json']);
    const lines = events.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as StoredRunEvent);
    expect(lines[0].type).toBe('goal.received');
    expect(lines.map((e) => e.type)).toEqual(expect.arrayContaining(['thought', 'tool.called', 'observation']));
    expect(lines.at(-1)).toMatchObject({ type: 'status.changed', to: 'succeeded' });
    expect(new Set(lines.map((e) => e.id)).size).toBe(lines.length);
  });

  it('releases a gated call with a second CLI call: approvals, then approve', async () => {
    const follow = cli(['submit', '--follow', '--run-id', 'cli-gate', 'goal:gated']);
    const approvalId = await triad.eventually(
      async () => {
        const r = await cli(['approvals', 'cli-gate', '--json']);
        if (r.code !== 0) return undefined; // the run is not in the store yet
        const { approvals } = JSON.parse(r.stdout) as { approvals: { id: string; tool: string }[] };
        return approvals[0]?.tool === 'post_webhook' && approvals[0].id;
      },
      { what: 'triad approvals cli-gate to list the pending post_webhook gate', intervalMs: 200 },
    );
    expect(effects.effectsOn('/hook')).toHaveLength(0);

    const table = await cli(['approvals']);
    expect(table.stdout).toMatch(new RegExp(`cli-gate +${approvalId} +post_webhook +irreversible`));

    const approved = await cli(['approve', 'cli-gate', approvalId]);
    expect(approved).toMatchObject({ code: 0, stdout: `approved ${approvalId} of run cli-gate (post_webhook)\n` });

    const followed = await follow;
    expect(followed.code).toBe(0);
    expect(followed.stdout).toMatch(new RegExp(`gate {6}post_webhook \\[1-0\\] needs approval ${approvalId}`));
    expect(followed.stdout).toMatch(new RegExp(`gate {6}${approvalId} approved by cli-admin`));
    expect(followed.stdout).toMatch(/^answer: Sent: true\.$/m);
    expect(effects.effectsOn('/hook')).toHaveLength(1);

    const again = await cli(['approve', 'cli-gate', approvalId]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^triad: .*already approved.*\n$/);
  });

  it('reports an unknown run as one line on stderr with exit 1', async () => {
    for (const args of [
      ['status', 'no-such-run'],
      ['events', 'no-such-run'],
      ['cancel', 'no-such-run'],
    ]) {
      const r = await cli(args);
      expect(r).toEqual({ code: 1, stdout: '', stderr: 'triad: no run no-such-run\n' });
    }
  });

  it('reports a refused key and wrong usage as one line, with exit 1 and 2', async () => {
    const refused = await cli(['list'], { TRIAD_API_KEY: 'wrong' });
    expect(refused.code).toBe(1);
    expect(refused.stderr.split('\n')).toHaveLength(2);
    expect(refused.stderr).toMatch(/^triad: /);

    const usage = await cli(['reject', 'cli-gate', '1-0']);
    expect(usage).toEqual({ code: 2, stdout: '', stderr: 'triad: --reason is required (see triad reject --help)\n' });
  });
});
