// Tenant spend caps across runs: tenant acme may spend MAX_COST_USD a UTC day (TRIAD_TENANT_LIMITS). Many of its goals
// at once, three planner processes racing: every model call reserves an upper bound of its cost first, so acme's total
// stays at or under its cap; runs whose next call would cross it end budget_exceeded naming the tenant limit; once the
// cap is reached new goals are refused (the gateway: 429 with Retry-After; queue intake: a failed run, tenant_limit).
// Tenant globex, with no cap, is untouched. GET /v1/usage and `triad usage --json` show the figures.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type RunRecord, storeRunId, TenantUsageStore, utcDay } from '@triad/shared';
import type { Scenario } from '@triad/testing';
import { GatewayClient } from './support/gateway-harness.js';
import { ACCEPT, acceptedScript } from './support/scripts.js';
import { TriadHarness } from './support/triad-harness.js';

const execFileAsync = promisify(execFile);
const CLI = fileURLToPath(new URL('../cli/dist/triad.js', import.meta.url));

// USD per million tokens: every token costs $0.000001 (1 USD per million) in and out, for both roles.
const PRICES = {
  planner: { inputPerMTok: 1, outputPerMTok: 1 },
  judge: { inputPerMTok: 1, outputPerMTok: 1 },
};
const MAX_OUTPUT_TOKENS = 64;
// A planner call's upper bound is the bytes it sends (about 6 KB: the tool schemas) plus 64 output tokens, some 15
// times what the scripted model reports it used ($0.00042); the cap holds two such bounds at once, and the calls of
// about a dozen runs ($0.00063 each) before what is spent and one more bound would cross it.
const MAX_COST_USD = 0.015;
const ACME_GOALS = 24;
const GLOBEX_GOALS = 4;
const KEYS = {
  acme: 'key-acme-spend-0123456789',
  globex: 'key-globex-spend-0123456789',
  admin: 'key-admin-0123456789',
};

const usage = (prompt_tokens: number, completion_tokens: number) => ({ prompt_tokens, completion_tokens });
// Every run: one planner call proposing the answer, one judge call accepting it (the judge's turn by conversation, so
// every run gets the same), with the usage they report.
const scenario: Scenario = {
  scripts: [
    {
      ...acceptedScript(
        'spend',
        [{ content: 'The answer is 42.', usage: usage(400, 20) }],
        [{ ...ACCEPT, usage: usage(200, 10) }],
      ),
      turnBy: { planner: 'assistantMessages', judge: 'assistantMessages' },
    },
  ],
};

let triad: TriadHarness;
let gw: GatewayClient;

beforeAll(async () => {
  triad = await TriadHarness.start({
    scenario,
    executors: 1,
    env: {
      TRIAD_MODEL_PRICES: JSON.stringify(PRICES),
      TRIAD_MODEL_MAX_OUTPUT_TOKENS: String(MAX_OUTPUT_TOKENS),
      TRIAD_TENANT_LIMITS: JSON.stringify({ acme: { maxCostUsdPerDay: MAX_COST_USD } }),
      TRIAD_PLANNER_CONCURRENCY: '8',
    },
  });
  // Three planners in all, racing for acme's goals and their model calls.
  await Promise.all([triad.spawn('planner', 'planner-2'), triad.spawn('planner', 'planner-3')]);
  gw = await GatewayClient.start(triad, {
    TRIAD_API_KEYS: [
      `acme-app:${KEYS.acme}:submit+read:acme`,
      `globex-app:${KEYS.globex}:submit+read:globex`,
      `ops:${KEYS.admin}:admin`,
    ].join(','),
  });
});
afterAll(async () => {
  await triad?.stop();
});

const post = (key: string, body: unknown) => gw.call('POST', '/v1/runs', { key, body });
const ids = (tenant: string, n: number) => Array.from({ length: n }, (_, i) => `${tenant}-spend-${i}`);

describe('tenant spend caps', () => {
  let acmeRuns: RunRecord[];

  it('keeps a tenant at or under its daily cost cap with three planners racing; other tenants go on', async () => {
    const acme = ids('acme', ACME_GOALS);
    const globex = ids('globex', GLOBEX_GOALS);
    const answers = await Promise.all([
      ...acme.map((runId) => post(KEYS.acme, { goal: 'goal:spend', runId })),
      ...globex.map((runId) => post(KEYS.globex, { goal: 'goal:spend', runId })),
    ]);
    // Accepted at the gateway (intake may still refuse a goal it takes in after the cap is reached).
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 202));
    acmeRuns = await Promise.all(acme.map((id) => triad.waitForRun(storeRunId('acme', id), 120_000)));
    const globexRuns = await Promise.all(globex.map((id) => triad.waitForRun(storeRunId('globex', id), 120_000)));

    const usage = new TenantUsageStore(triad.redis, triad.prefix);
    const [today] = await usage.usage('acme', 1);
    const runCost = acmeRuns.reduce((sum, r) => sum + r.usage.costUsd, 0);
    const byStatus = (s: string) => acmeRuns.filter((r) => r.status === s);
    const refusedAtIntake = acmeRuns.filter((r) => r.error?.code === 'tenant_limit');
    process.stdout.write(
      `tenant-spend: acme spent $${today?.costUsd.toFixed(6)} of $${MAX_COST_USD} in ${today?.modelCalls} model calls ` +
        `(runs: $${runCost.toFixed(6)}); ${byStatus('succeeded').length} succeeded, ` +
        `${byStatus('budget_exceeded').length} budget_exceeded, ${refusedAtIntake.length} refused at intake\n`,
    );
    expect(today?.costUsd).toBeLessThanOrEqual(MAX_COST_USD);
    expect(runCost).toBeLessThanOrEqual(MAX_COST_USD + 1e-9 * ACME_GOALS * 2); // per-call rounding to nano-USD
    expect(today?.costUsd).toBeCloseTo(runCost, 6);
    expect(byStatus('succeeded').length).toBeGreaterThan(0);
    const exceeded = byStatus('budget_exceeded');
    expect(exceeded.length).toBeGreaterThan(0);
    for (const r of exceeded) {
      expect(r.error).toEqual({
        code: 'budget_exceeded',
        message: expect.stringMatching(/^tenant acme: maxCostUsdPerDay \$0\.015 reached \(\$[0-9.]+ spent today/),
      });
    }
    for (const r of refusedAtIntake) expect(r.status).toBe('failed');
    expect(byStatus('running')).toHaveLength(0);
    expect(globexRuns.map((r) => r.status)).toEqual(globex.map(() => 'succeeded'));
    // Only acme's calls (under a cap) are sent with a limit on their output: its reservation counts that many tokens.
    const limited = triad.model.requests.filter((r) => r.body.max_completion_tokens === MAX_OUTPUT_TOKENS);
    expect(limited).toHaveLength(today?.modelCalls ?? -1);
    expect(triad.model.requests.length - limited.length).toBe(GLOBEX_GOALS * 2);
    expect(triad.model.requests.filter((r) => r.body.max_completion_tokens === undefined)).toHaveLength(
      GLOBEX_GOALS * 2,
    );
  });

  it('refuses new goals past the cap: 429 with Retry-After at the gateway, a tenant_limit run at queue intake', async () => {
    const before = Date.now();
    const refused = await post(KEYS.acme, { goal: 'goal:spend', runId: 'acme-late' });
    expect(refused.status).toBe(429);
    expect(refused.body.error).toEqual({
      code: 'too_many_requests',
      message: expect.stringMatching(/^tenant acme: maxCostUsdPerDay 0\.015 reached .*until 00:00 UTC$/),
    });
    const retryAfter = Number(refused.headers.get('retry-after'));
    const toMidnight = (Date.UTC(...utcParts(before)) + 86_400_000 - before) / 1000;
    expect(retryAfter).toBeGreaterThanOrEqual(Math.floor(toMidnight) - 5);
    expect(retryAfter).toBeLessThanOrEqual(Math.ceil(toMidnight));
    expect(await triad.store.get(storeRunId('acme', 'acme-late'))).toBeNull();
    // Another tenant still submits.
    expect((await post(KEYS.globex, { goal: 'goal:spend', runId: 'globex-late' })).status).toBe(202);

    const id = await triad.submit({ goal: 'goal:spend', runId: 'acme-queued', tenant: 'acme' });
    const run = await triad.waitForRun(id);
    expect(run).toMatchObject({ status: 'failed', tenant: 'acme', error: { code: 'tenant_limit' } });
    expect(run.error?.message).toMatch(/^tenant acme: maxCostUsdPerDay 0\.015 reached/);
    expect(await triad.store.events(id)).toEqual(
      expect.arrayContaining([expect.objectContaining({ type: 'goal.rejected' })]),
    );
    await triad.waitForRun(storeRunId('globex', 'globex-late'));
  });

  it('reports usage per tenant and day: GET /v1/usage and triad usage --json', async () => {
    const started = acmeRuns.filter((r) => r.error?.code !== 'tenant_limit').length;
    const [today] = await new TenantUsageStore(triad.redis, triad.prefix).usage('acme', 1);
    const res = await gw.call('GET', '/v1/usage?days=2', { key: KEYS.acme });
    expect(res.status).toBe(200);
    const limits = { maxCostUsdPerDay: MAX_COST_USD, maxTokensPerDay: null };
    expect(res.body).toEqual({
      tenant: 'acme',
      days: [
        {
          day: utcDay(Date.now()),
          costUsd: today?.costUsd,
          tokens: today?.tokens,
          modelCalls: today?.modelCalls,
          runs: started,
          limits,
        },
        { day: utcDay(Date.now() - 86_400_000), costUsd: 0, tokens: 0, modelCalls: 0, runs: 0, limits },
      ],
    });
    expect(today?.tokens).toBeGreaterThan(0);
    // An admin key names the tenant; globex has no cap and ran GLOBEX_GOALS + 1 runs.
    const globex = await gw.call('GET', '/v1/usage?days=1', {
      key: KEYS.admin,
      headers: { 'x-triad-tenant': 'globex' },
    });
    expect(globex.body).toMatchObject({
      tenant: 'globex',
      days: [{ runs: GLOBEX_GOALS + 1, limits: { maxCostUsdPerDay: null, maxTokensPerDay: null } }],
    });
    expect((await gw.call('GET', '/v1/usage?days=9', { key: KEYS.acme })).status).toBe(400);

    const { stdout } = await execFileAsync(process.execPath, [CLI, 'usage', '--json', '--days', '2'], {
      env: { PATH: process.env.PATH, TRIAD_URL: gw.url, TRIAD_API_KEY: KEYS.acme },
    });
    expect(JSON.parse(stdout)).toEqual(res.body);
    const table = await execFileAsync(process.execPath, [CLI, 'usage', '--days', '1'], {
      env: { PATH: process.env.PATH, TRIAD_URL: gw.url, TRIAD_API_KEY: KEYS.acme },
    });
    expect(table.stdout).toMatch(/^tenant acme\nDAY \(UTC\) +COST \(USD\) +TOKENS +MODEL CALLS +RUNS\n/);
    expect(table.stdout).toContain(`${today?.costUsd.toFixed(6)} / 0.015`);
  });
});

function utcParts(ms: number): [number, number, number] {
  const d = new Date(ms);
  return [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()];
}
