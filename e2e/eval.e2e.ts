// `triad eval` as a real binary against a real gateway, planner, executor and judge playing the offline demo
// scenario over examples/workspace: the shipped example dataset passes (its rubric graded by the offline demo model),
// and a dataset with a wrong expectation and a replay line exits non-zero below the threshold with a JUnit report
// whose testcase, failure and error elements say so (its rubric graded by the configured model, through openai).
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { loadScenarioFile } from '@triad/testing';
import { XMLParser } from 'fast-xml-parser';
import { REPO_ROOT } from '../cli/src/stack/service-processes.js';
import { type ChildRun, WatchedChild } from './support/child-process.js';
import { GatewayClient } from './support/gateway-harness.js';
import { TriadHarness } from './support/triad-harness.js';

const DATASET = `${REPO_ROOT}examples/evals/workspace.jsonl`;
const KEY = 'k-eval-1';
let triad: TriadHarness;
let gw: GatewayClient;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'triad-eval-'));
  triad = await TriadHarness.start({
    scenario: await loadScenarioFile(`${REPO_ROOT}examples/demo/scenario.json`),
    executors: 1,
  });
  gw = await GatewayClient.start(triad, { TRIAD_API_KEYS: `eval-bot:${KEY}:submit+read` });
});
afterAll(async () => {
  await triad?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** `triad eval ...args` against the test gateway, to its end. */
function evalCli(args: string[], env: Record<string, string> = {}): Promise<ChildRun> {
  const child = spawn(process.execPath, [`${REPO_ROOT}cli/dist/triad.js`, 'eval', ...args], {
    env: { PATH: process.env.PATH, TRIAD_URL: gw.url, TRIAD_API_KEY: KEY, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new WatchedChild(child).exit({ what: `triad eval ${args.join(' ')}`, context: () => triad.serviceLogs() });
}

const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

describe('triad eval', () => {
  it('passes the shipped example dataset offline, its rubric graded by the offline demo model', async () => {
    const run = await evalCli([DATASET]);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    expect(run.stdout).toContain('rubrics are graded by the offline demo model');
    expect(run.stdout).toContain('3/3 passed (100.0%; threshold 100.0%)');
    for (const name of ['densest-city', 'lisbon-population', 'coimbra-facts']) {
      expect(run.stdout).toMatch(new RegExp(`^${name}\\s+PASSED\\s+succeeded`, 'm'));
    }
  });

  it('exits 1 below the threshold and writes a JUnit report with a failure and an error', async () => {
    const shipped = await readFile(DATASET, 'utf8');
    const wrong = {
      name: 'lisbon-wrong',
      goal: 'What is the population of Lisbon in the example data? Answer as data.',
      outputSchema: JSON.parse(shipped.split('\n')[1] as string).outputSchema,
      expect: { subset: { population: 500000 } },
    };
    const replay = { name: 'replayed', replayOf: 'run-from-yesterday', expect: { exact: 'x' } };
    const file = join(dir, 'mixed.jsonl');
    await writeFile(file, `${shipped.trimEnd()}\n${JSON.stringify(wrong)}\n${JSON.stringify(replay)}\n`);
    const junit = join(dir, 'report.xml');
    const model = { OPENAI_BASE_URL: `${triad.model.url}/v1`, OPENAI_API_KEY: 'test-key', TRIAD_JUDGE_MODEL: 'judge' };
    const graded = triad.model.requestsFor('judge').length;

    const run = await evalCli([file, '--threshold', '0.7', '--junit', junit], model);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('3/5 passed (60.0%; threshold 70.0%) · 1 failed · 1 errors');
    expect(run.stdout).toMatch(/^lisbon-wrong\s+FAILED\s+succeeded.*\/population: expected 500000, got 545796/m);
    expect(run.stdout).toMatch(/^replayed\s+ERROR\s+-.*run-from-yesterday/m);
    // The rubric went to the configured model (the scripted server, as role judge), not to an offline one.
    expect(run.stdout).not.toContain('offline demo model');
    const grading = triad.model.requestsFor('judge').slice(graded);
    expect(grading.filter((r) => JSON.stringify(r.body).includes('Grade the answer against the rubric'))).toHaveLength(
      1,
    );

    const xml = new XMLParser({ ignoreAttributes: false }).parse(await readFile(junit, 'utf8'));
    const suite = xml.testsuites.testsuite;
    expect(suite).toMatchObject({ '@_name': 'mixed', '@_tests': '5', '@_failures': '1', '@_errors': '1' });
    const cases = asArray(suite.testcase) as Record<string, unknown>[];
    expect(cases.map((c) => c['@_name'])).toEqual([
      'densest-city',
      'lisbon-population',
      'coimbra-facts',
      'lisbon-wrong',
      'replayed',
    ]);
    const byName = new Map(cases.map((c) => [c['@_name'], c]));
    for (const name of ['densest-city', 'lisbon-population', 'coimbra-facts']) {
      expect(byName.get(name)).not.toHaveProperty('failure');
      expect(byName.get(name)).not.toHaveProperty('error');
    }
    expect(byName.get('lisbon-wrong')).toMatchObject({
      failure: { '@_message': '/population: expected 500000, got 545796' },
    });
    expect(byName.get('replayed')).toMatchObject({
      error: { '@_message': expect.stringContaining('run-from-yesterday') },
    });

    // At the threshold the same dataset exits 0.
    const again = await evalCli([file, '--threshold', '0.6', '--json'], model);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).summary).toMatchObject({ cases: 5, passed: 3, failed: 1, errors: 1 });
  });

  it('replays a recorded run: no model call, no tool run, the recorded output checked again', async () => {
    const shipped = (await readFile(DATASET, 'utf8')).split('\n');
    const live = join(dir, 'live.jsonl');
    await writeFile(live, `${shipped[1]}\n`);
    const first = await evalCli([live, '--json']);
    expect(first.code).toBe(0);
    const [recorded] = JSON.parse(first.stdout).cases as { runId: string; name: string }[];
    const asked = triad.model.requests.length;

    const replays = join(dir, 'replays.jsonl');
    const lines = [
      {
        name: 'lisbon-replayed',
        replayOf: recorded?.runId,
        expect: { subset: { city: 'Lisbon', population: 545796 } },
      },
      { name: 'lisbon-replayed-wrong', replayOf: recorded?.runId, expect: { subset: { population: 1 } } },
    ];
    await writeFile(replays, lines.map((l) => JSON.stringify(l)).join('\n'));
    const run = await evalCli([replays, '--threshold', '0.5', '--json']);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    const report = JSON.parse(run.stdout) as {
      summary: unknown;
      cases: { name: string; runId: string; message: string }[];
    };
    expect(report.summary).toMatchObject({ cases: 2, passed: 1, failed: 1, errors: 0 });
    expect(report.cases[1]?.message).toBe('/population: expected 1, got 545796');
    // Each case is a new run replaying the recorded one, and nothing asked the model.
    expect(new Set(report.cases.map((c) => c.runId)).size).toBe(2);
    expect(report.cases.map((c) => c.runId)).not.toContain(recorded?.runId);
    expect(triad.model.requests.length).toBe(asked);
    for (const c of report.cases) {
      expect((await gw.call('GET', `/v1/runs/${c.runId}`, { key: KEY })).body).toMatchObject({
        replayOf: { runId: recorded?.runId },
      });
    }
  });

  it('refuses a bad dataset with the line and path, exit code 2, before running anything', async () => {
    const file = join(dir, 'bad.jsonl');
    await writeFile(
      file,
      '{"goal":"x","expect":{"exact":1,"rubric":"y"}}\n{"goal":"","expect":{"subset":{}}}\nnot json\n',
    );
    const run = await evalCli([file]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('bad.jsonl:1: expect: give exactly one of exact, subset, rubric');
    expect(run.stderr).toContain('bad.jsonl:2: goal:');
    expect(run.stderr).toContain('bad.jsonl:3: not JSON');
  });
});
