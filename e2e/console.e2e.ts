// The web console in a real browser (Debian's Chromium driven by playwright-core) against real processes: sign-in
// with an API key kept as an HttpOnly session cookie, a run's timeline growing live and resuming after a dropped
// connection, the approvals inbox (approve with edited arguments validated against the tool's schema, reject), a
// read-only key that is offered no decision and refused by the API anyway, and 401 without a key.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Scenario } from '@triad/testing';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { REPO_ROOT } from '../cli/src/stack/service-processes.js';
import { launchChromium } from './support/browser.js';
import { EffectServer } from './support/effect-server.js';
import { GatewayClient } from './support/gateway-harness.js';
import { acceptedScript, postWebhook as hook, verdict } from './support/scripts.js';
import { TcpProxy } from './support/tcp-proxy.js';
import { TriadHarness } from './support/triad-harness.js';

const KEYS = { ops: 'ops-key-0123456789', viewer: 'viewer-key-0123456789', root: 'root-key-0123456789' };
const CRITIQUE = 'Complete: the notice went out as approved.';

const scenario: Scenario = {
  scripts: [
    acceptedScript(
      'console-edit',
      [{ content: 'I will notify the team.', toolCalls: [hook('e1', 'from-model')] }, { content: 'Notice sent.' }],
      [verdict('accept', CRITIQUE), verdict('accept', CRITIQUE)],
    ),
    acceptedScript('console-reject', [
      { content: 'Notify.', toolCalls: [hook('r1', 'reject-me')] },
      { content: 'Not sent: {{tool:r1.error.message}}' },
    ]),
    acceptedScript('console-form', [{ content: 'Notify.', toolCalls: [hook('f1', 'form')] }, { content: 'Done.' }]),
    acceptedScript('console-viewer', [
      { content: 'Notify.', toolCalls: [hook('v1', 'viewer-sees')] },
      { content: 'Done.' },
    ]),
  ],
};

// Screenshots for the README when TRIAD_CONSOLE_SCREENSHOTS=1 (docs/), else a scratch folder: taken either way.
const SHOTS = process.env.TRIAD_CONSOLE_SCREENSHOTS === '1' ? join(REPO_ROOT, 'docs') : '';

let triad: TriadHarness;
let gw: GatewayClient;
let proxy: TcpProxy;
let effects: EffectServer;
let browser: Browser;
let shots: string;

beforeAll(async () => {
  effects = await EffectServer.start();
  triad = await TriadHarness.start({
    scenario,
    executors: 1,
    env: { TRIAD_WEBHOOK_URL: `${effects.url}/hook` },
  });
  gw = await GatewayClient.start(triad, {
    TRIAD_API_KEYS: `ops:${KEYS.ops}:submit+read+approve,viewer:${KEYS.viewer}:read,root:${KEYS.root}:admin`,
    TRIAD_JAEGER_URL: 'http://jaeger.example:16686',
  });
  // The browser reaches the gateway through a proxy that can drop every connection, as a network would.
  proxy = await TcpProxy.start(Number(new URL(gw.url).port));
  browser = await launchChromium();
  shots = SHOTS || (await mkdtemp(join(tmpdir(), 'triad-console-')));
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await proxy?.close();
  await triad?.stop();
  await effects?.close();
});

const hookEffects = (subject: string) =>
  effects.effectsOn('/hook').filter((e) => JSON.parse(e.body).subject === subject);

/** A fresh browser session signed in with `key` through the console's form. */
async function signedIn(key: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1366, height: 800 } });
  const page = await context.newPage();
  await page.goto(`${proxy.url}/console/`);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Console' }).waitFor();
  return { context, page };
}

async function submit(runId: string, goal: string): Promise<void> {
  const res = await gw.call('POST', '/v1/runs', { key: KEYS.ops, body: { goal, runId } });
  expect(res.status).toBe(202);
}

const timelineTypes = (page: Page) =>
  page.locator('ol.timeline > li').evaluateAll((lis) => lis.map((li) => li.getAttribute('data-event-type')));

describe('the web console', () => {
  it('answers 401 without a key, and shows the sign-in form', async () => {
    for (const path of ['/v1/runs', '/v1/session', '/v1/approvals', '/v1/run-counts', '/admin/queues']) {
      expect((await gw.call('GET', path)).status).toBe(401);
    }
    // The page itself is public (it holds no data): any path under /console is the page, deep links included.
    const deep = await gw.call('GET', '/console/runs/some-run');
    expect(deep.status).toBe(200);
    expect(deep.body).toContain('<div id="app">');
    expect(deep.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect((await gw.call('GET', '/console/assets/missing.js')).status).toBe(404);
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${proxy.url}/console/approvals`);
    // The page asks the gateway for the session first: the form shows once it has answered 401.
    await page.getByLabel('API key').waitFor();
    await page.getByLabel('API key').fill('not-a-key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toContain('unknown API key');
    await context.close();
  });

  it('keeps the session in an HttpOnly, SameSite=Strict browser-session cookie that scripts cannot read', async () => {
    const { context, page } = await signedIn(KEYS.ops);
    const [cookie] = await context.cookies();
    expect(cookie).toMatchObject({ name: 'triad_session', httpOnly: true, sameSite: 'Strict', expires: -1 });
    expect(cookie.value).not.toContain(KEYS.ops);
    await expect(page.evaluate('document.cookie')).resolves.toBe('');
    // The cookie alone changes nothing: a state-changing request on it must come from a page of the gateway.
    const forged = await gw.call('POST', '/v1/runs', {
      headers: { cookie: `triad_session=${cookie.value}` },
      body: { goal: 'forged' },
    });
    expect(forged.status).toBe(403);
    expect(forged.body.error.message).toMatch(/only from a page of this gateway/);
    // The same session read from a script of the page's own origin works, and sign-out ends it.
    await expect(page.evaluate(() => fetch('/v1/session').then((r) => r.status))).resolves.toBe(200);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API key').waitFor();
    expect(await context.cookies()).toEqual([]);
    await context.close();
  });

  it('shows a run appear, its timeline grow live, and approves its gate with edited arguments', async () => {
    const { context, page } = await signedIn(KEYS.ops);
    await submit('console-edit', 'goal:console-edit notify the team');
    // The runs page refreshes by itself: the run appears, and the search by goal text finds it.
    const row = page.locator('tr[data-run-id="console-edit"]');
    await row.waitFor();
    await page.getByLabel('Search runs').fill('NOTIFY THE TEAM');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/q=NOTIFY/);
    await row.waitFor();
    // The counts by status follow (they are read at most every few seconds).
    await page.getByRole('button', { name: /^running [1-9]/ }).waitFor();
    await page.screenshot({ path: join(shots, 'console-runs.png') });

    await row.getByRole('link', { name: 'console-edit' }).click();
    await page.waitForURL(/\/console\/runs\/console-edit$/);
    await page.locator('li[data-event-type="approval.requested"]').waitFor();
    expect(await timelineTypes(page)).toEqual(expect.arrayContaining(['goal.received', 'thought']));

    // The inbox, in a second tab of the same session: the gate with tool, risk, arguments and who asked.
    const inbox = await context.newPage();
    await inbox.goto(`${proxy.url}/console/approvals`);
    const card = inbox.locator('article.approval').filter({ hasText: 'console-edit' });
    await card.waitFor();
    const text = await card.textContent();
    expect(text).toContain('post_webhook');
    expect(text).toContain('irreversible');
    expect(text).toContain('from-model');
    expect(text).toMatch(/left/);
    await inbox.screenshot({ path: join(shots, 'console-approvals.png') });

    // The editor checks the tool's schema before anything is sent.
    await card.getByRole('button', { name: 'Edit arguments…' }).click();
    const editor = card.getByLabel(/Edited arguments/);
    const send = card.getByRole('button', { name: 'Approve with these arguments' });
    await editor.fill('{"subject": "edited"');
    await expect(card.getByText(/not JSON/).isVisible()).resolves.toBe(true);
    await expect(send.isDisabled()).resolves.toBe(true);
    await editor.fill('{"subject": "edited"}');
    await card.locator('ul.error li', { hasText: 'message' }).waitFor();
    await expect(send.isDisabled()).resolves.toBe(true);
    await editor.fill('{"subject": "edited", "message": "reviewed by ops"}');
    await card.getByText('Valid arguments.').waitFor();
    const before = (await timelineTypes(page)).length;
    await send.click();
    await inbox.getByText(/You approved the post_webhook call of run console-edit/).waitFor();

    // The run page, never reloaded, follows the run to its end: observation, the judge's critique and verdict.
    await page.locator('li[data-event-type="reflection"]').filter({ hasText: CRITIQUE }).waitFor();
    await page.locator('li[data-event-type="verdict"]').filter({ hasText: 'accept' }).waitFor();
    await page.getByText('Notice sent.').first().waitFor();
    expect((await timelineTypes(page)).length).toBeGreaterThan(before);
    expect(await timelineTypes(page)).toEqual(expect.arrayContaining(['approval.decided', 'observation']));
    await page.locator('.badge-succeeded').first().waitFor();
    expect(hookEffects('from-model')).toHaveLength(0);
    expect(hookEffects('edited').map((e) => JSON.parse(e.body).message)).toEqual(['reviewed by ops']);

    // Usage against the budget, and the trace tree with its Jaeger link.
    await expect(page.getByRole('meter').count()).resolves.toBeGreaterThanOrEqual(4);
    await page.getByText('Trace', { exact: true }).click();
    await expect(page.locator('pre.tree').textContent()).resolves.toContain('judge accept');
    const jaeger = await page.getByRole('link', { name: /in Jaeger/ }).getAttribute('href');
    expect(jaeger).toMatch(/^http:\/\/jaeger\.example:16686\/trace\/[0-9a-f]{32}$/);
    await page.screenshot({ path: join(shots, 'console-run.png'), fullPage: true });
    await context.close();
  }, 180_000);

  it('resumes the event stream after a dropped connection, with Last-Event-ID and no duplicate', async () => {
    const { context, page } = await signedIn(KEYS.ops);
    await submit('console-reject', 'goal:console-reject');
    await page.goto(`${proxy.url}/console/runs/console-reject`);
    await page.locator('li[data-event-type="approval.requested"]').waitFor();
    const seen = (await timelineTypes(page)).length;
    proxy.dropAll();
    // The browser comes back by itself, saying where it was.
    await triad.eventually(() => proxy.requests.some((r) => r.headers['last-event-id']), {
      what: 'an event stream reopened with Last-Event-ID',
    });
    await page.locator('[data-connection="live"]').waitFor();

    // Reject from the inbox, with a reason: the resumed stream shows the rest, once.
    const inbox = await context.newPage();
    await inbox.goto(`${proxy.url}/console/approvals`);
    const card = inbox.locator('article.approval').filter({ hasText: 'console-reject' });
    await card.getByRole('button', { name: 'Reject…' }).click();
    await card.getByLabel('Reason for rejecting').fill('not during the freeze');
    await card.getByRole('button', { name: 'Reject', exact: true }).click();
    await page
      .getByText(/rejected this call: not during the freeze/)
      .first()
      .waitFor();
    const ids = await page.locator('ol.timeline > li').count();
    expect(ids).toBeGreaterThan(seen);
    const types = await timelineTypes(page);
    expect(types.filter((t) => t === 'approval.requested')).toHaveLength(1);
    expect(types.filter((t) => t === 'goal.received')).toHaveLength(1);
    expect(hookEffects('reject-me')).toHaveLength(0);
    await context.close();
  }, 180_000);

  it('starts a run from the form with tools, budget and metadata, and cancels it', async () => {
    const { context, page } = await signedIn(KEYS.ops);
    await page.getByRole('link', { name: 'New run' }).click();
    await page.getByLabel('Goal').fill('goal:console-form');
    await page.getByLabel('every tool the executors offer').uncheck();
    await page.getByRole('checkbox', { name: /post_webhook/ }).check();
    await page.getByLabel('Iterations').fill('3');
    await page.getByLabel(/Metadata/).fill('ticket=T-1\nteam=ops');
    await page.getByRole('button', { name: 'Start the run' }).click();
    await page.waitForURL(/\/console\/runs\/run-/);
    const runId = decodeURIComponent(page.url().split('/').at(-1) as string);
    const run = await gw.call('GET', `/v1/runs/${runId}`, { key: KEYS.ops });
    expect(run.body.request).toMatchObject({
      tools: ['post_webhook'],
      budget: { maxIterations: 3 },
      metadata: { ticket: 'T-1', team: 'ops' },
    });
    await page.locator('li[data-event-type="approval.requested"]').waitFor();
    page.once('dialog', (d) => d.accept());
    await page.getByRole('button', { name: 'Cancel run' }).click();
    await page.locator('h1 .badge-cancelled').waitFor();
    expect(hookEffects('form')).toHaveLength(0);
    await context.close();
  }, 180_000);

  it('offers a read-only key no decision, and the API refuses its session anyway', async () => {
    await submit('console-viewer', 'goal:console-viewer');
    const [gate] = await triad.pendingApprovals('console-viewer');
    const { context, page } = await signedIn(KEYS.viewer);
    await expect(page.getByRole('link', { name: 'New run' }).count()).resolves.toBe(0);
    await page.goto(`${proxy.url}/console/approvals`);
    const card = page.locator('article.approval').filter({ hasText: 'console-viewer' });
    await card.waitFor();
    await expect(card.getByRole('button').count()).resolves.toBe(0);
    await expect(card.getByText(/lacks the approve role/).isVisible()).resolves.toBe(true);
    // What the page does not offer, a script of the page (the same session) cannot do either.
    const status = await page.evaluate(
      ([run, id]) =>
        fetch(`/v1/runs/${run}/approvals/${id}/approve`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{}',
        }).then((r) => r.status),
      ['console-viewer', gate.id],
    );
    expect(status).toBe(403);
    expect(
      (await gw.call('POST', `/v1/runs/console-viewer/approvals/${gate.id}/approve`, { key: KEYS.viewer, body: {} }))
        .status,
    ).toBe(403);

    // A decision taken elsewhere leaves the viewer's inbox while it looks, with a notice.
    await gw.call('POST', `/v1/runs/console-viewer/approvals/${gate.id}/approve`, { key: KEYS.ops, body: {} });
    await page.getByText(/console-viewer was decided elsewhere/).waitFor();
    await expect(card.count()).resolves.toBe(0);
    // The queue dashboard is for admin sessions only.
    await expect(page.goto(`${proxy.url}/admin/queues`).then((r) => r?.status())).resolves.toBe(403);
    await context.close();
    const admin = await signedIn(KEYS.root);
    const board = await admin.page.goto(`${proxy.url}/admin/queues`);
    expect(board?.status()).toBe(200);
    await admin.context.close();
  }, 180_000);

  it('searches runs by id or goal text and counts them by status, through the API the page uses', async () => {
    const found = await gw.call('GET', '/v1/runs?q=CONSOLE-V', { key: KEYS.viewer });
    expect(found.body.runs.map((r: { id: string }) => r.id)).toEqual(['console-viewer']);
    const byGoal = await gw.call('GET', `/v1/runs?q=${encodeURIComponent('notify the team')}`, { key: KEYS.viewer });
    expect(byGoal.body.runs.map((r: { id: string }) => r.id)).toEqual(['console-edit']);
    const none = await gw.call('GET', '/v1/runs?q=no-such-text&status=succeeded', { key: KEYS.viewer });
    expect(none.body).toEqual({ runs: [], nextCursor: null });
    const all = (await gw.call('GET', '/v1/runs?limit=200', { key: KEYS.viewer })).body.runs as { status: string }[];
    const counts = await triad.eventually(
      async () => {
        const c = (await gw.call('GET', '/v1/run-counts', { key: KEYS.viewer })).body;
        return c.total === all.length && c;
      },
      { what: 'the counts to take in every run' },
    );
    for (const status of ['running', 'succeeded', 'cancelled']) {
      expect(counts.counts[status]).toBe(all.filter((r) => r.status === status).length);
    }
    expect((await gw.call('GET', '/v1/run-counts')).status).toBe(401);
  });
});
