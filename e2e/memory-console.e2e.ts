// The console's memory views in a real browser (Debian's Chromium driven by playwright-core) against real processes
// and the scripted model's embeddings: the Memories page lists the tenant's memories, searches them by meaning with
// kind and tag filters, and deletes one after a confirmation (a read-only key is offered no delete); a run's page
// shows the lessons its planner was given (`memory.recalled`, by the real planner: text, score, untrusted badge, a
// link to the source run) and the lessons the judge drew from it (`memory.learned`, by the real judge), and its
// timeline renders both events.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { MemoryEntry } from '@triad/shared';
import type { Scenario } from '@triad/testing';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from './support/browser.js';
import { GatewayClient } from './support/gateway-harness.js';
import { acceptedScript } from './support/scripts.js';
import { TriadHarness } from './support/triad-harness.js';

const KEYS = { ops: 'ops-key-mem-0123456789', viewer: 'viewer-key-mem-0123456789' };
const LESSON = 'The billing API wants invoice dates written as YYYY-MM-DD, never as DD/MM/YYYY.';
const DISTILLED = 'Check a calculator expression is complete before calling the calculator.';
// Close enough in meaning to LESSON for the planner's recall (cosine about 0.5 with the scripted embeddings).
const RECALL_GOAL = 'goal:mem-console-recall: send invoice dates to the billing API as it wants them written';

const scenario: Scenario = {
  scripts: [
    // The judge distilling lessons from an ended run (only the writer run learns).
    {
      name: 'lessons',
      match: 'Distil lessons from this finished run',
      turns: { judge: [{ output: { lessons: [{ text: DISTILLED, tags: ['calculator'] }] } }] },
    },
    // Memorizes the lesson, and makes a calculator call fail: something for the judge to learn from.
    acceptedScript('mem-console-write', [
      {
        content: 'Keep this for later runs.',
        toolCalls: [
          { id: 'w1', name: 'memorize', arguments: { text: LESSON, kind: 'lesson', tags: ['billing'] } },
          { id: 'c1', name: 'calculator', arguments: { expression: '2 +' } },
        ],
      },
      { content: 'Stored.' },
    ]),
    // Plays only when the planner's first request carries the recalled lesson.
    { ...acceptedScript('mem-console-recall', [{ content: 'Dates go as YYYY-MM-DD.' }]), contains: 'YYYY-MM-DD' },
  ],
};

let triad: TriadHarness;
let gw: GatewayClient;
let browser: Browser;

beforeAll(async () => {
  triad = await TriadHarness.start({ scenario, executors: 1, memory: true });
  gw = await GatewayClient.start(triad, {
    TRIAD_API_KEYS: `ops:${KEYS.ops}:submit+read+approve,viewer:${KEYS.viewer}:read`,
  });
  browser = await launchChromium();
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await triad?.stop();
});

async function signedIn(key: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1366, height: 800 } });
  const page = await context.newPage();
  await page.goto(`${gw.url}/console/`);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Console' }).waitFor();
  return { context, page };
}

async function runToEnd(runId: string, goal: string, memory: { recall: boolean; learn: boolean }): Promise<void> {
  const res = await gw.call('POST', '/v1/runs', { key: KEYS.ops, body: { goal, runId, memory } });
  expect(res.status).toBe(202);
  await triad.eventually(
    async () => (await gw.call('GET', `/v1/runs/${runId}`, { key: KEYS.ops })).body.status === 'succeeded',
    { what: `run ${runId} to succeed` },
  );
}

const rowIds = (page: Page) =>
  page.locator('table.memories tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-memory-id')));

describe('the console’s memory views', () => {
  let learned: MemoryEntry;
  let distilled: MemoryEntry;
  let fact: MemoryEntry;
  let other: MemoryEntry;

  beforeAll(async () => {
    await runToEnd('mem-console-writer', 'goal:mem-console-write', { recall: false, learn: true });
    // The judge distils its lesson after the run's end.
    await triad.eventually(
      async () => (await triad.events('mem-console-writer')).some((e) => e.type === 'memory.learned'),
      { what: 'the judge to learn from mem-console-writer' },
    );
    const written = (await gw.call('GET', '/v1/memories?sourceRunId=mem-console-writer', { key: KEYS.ops })).body
      .memories as MemoryEntry[];
    learned = written.find((e) => e.source.origin === 'tool') as MemoryEntry;
    distilled = written.find((e) => e.source.origin === 'judge') as MemoryEntry;
    expect([learned?.text, distilled?.text]).toEqual([LESSON, DISTILLED]);
    const add = async (body: object) => (await gw.call('POST', '/v1/memories', { key: KEYS.ops, body })).body.memory;
    fact = await add({ text: 'Invoices are due thirty days after their date.', kind: 'fact', tags: ['billing'] });
    other = await add({ text: 'The office plants are watered on Fridays.', kind: 'fact', tags: ['office'] });
  }, 180_000);

  it('lists, searches by meaning with kind and tag filters, and deletes after a confirmation', async () => {
    const { context, page } = await signedIn(KEYS.ops);
    await page.getByRole('link', { name: 'Memories' }).click();
    await page.waitForURL(/\/console\/memories$/);
    await page.locator(`tr[data-memory-id="${learned.id}"]`).waitFor();
    expect(await rowIds(page)).toEqual([other.id, fact.id, distilled.id, learned.id]); // newest first

    // The tool-written lesson is marked untrusted and links to the run that wrote it.
    const lessonRow = page.locator(`tr[data-memory-id="${learned.id}"]`);
    await expect(lessonRow.locator('.badge-untrusted').count()).resolves.toBe(1);
    await expect(page.locator(`tr[data-memory-id="${fact.id}"] .badge-untrusted`).count()).resolves.toBe(0);
    expect(await lessonRow.getByRole('link', { name: 'mem-console-writer' }).getAttribute('href')).toBe(
      '/console/runs/mem-console-writer',
    );

    // By meaning: the closest first, with its score.
    await page.getByLabel('Search by meaning').fill('which format does the billing API want for invoice dates');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('columnheader', { name: 'Score' }).waitFor();
    await triad.eventually(async () => (await rowIds(page))[0] === learned.id, {
      what: 'the lesson about invoice dates to come first',
    });
    // Filtered to facts tagged billing: the lesson and the office fact are gone.
    await page.getByLabel('Kind').selectOption('fact');
    await page.getByLabel('Tags').fill('billing');
    await page.getByRole('button', { name: 'Search' }).click();
    await triad.eventually(async () => JSON.stringify(await rowIds(page)) === JSON.stringify([fact.id]), {
      what: 'only the billing fact to be listed',
    });

    // Delete: dismissing the confirmation keeps it, accepting removes it.
    const del = page.getByRole('button', { name: `Delete memory ${fact.id}` });
    page.once('dialog', (d) => d.dismiss());
    await del.click();
    expect((await gw.call('GET', `/v1/memories/${fact.id}`, { key: KEYS.ops })).status).toBe(200);
    page.once('dialog', (d) => {
      expect(d.message()).toContain(fact.id);
      return d.accept();
    });
    await del.click();
    await page.locator(`tr[data-memory-id="${fact.id}"]`).waitFor({ state: 'detached' });
    await page.getByText('Nothing close to that.').waitFor();
    expect((await gw.call('GET', `/v1/memories/${fact.id}`, { key: KEYS.ops })).status).toBe(404);
    await context.close();
  }, 180_000);

  it('offers a read-only key the list and the search, and no delete', async () => {
    const { context, page } = await signedIn(KEYS.viewer);
    await page.getByRole('link', { name: 'Memories' }).click();
    await page.locator(`tr[data-memory-id="${learned.id}"]`).waitFor();
    await expect(page.getByRole('button', { name: /^Delete memory/ }).count()).resolves.toBe(0);
    await page.getByLabel('Search by meaning').fill('invoice date format');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('columnheader', { name: 'Score' }).waitFor();
    await page.locator(`tr[data-memory-id="${learned.id}"]`).waitFor();
    await expect(page.getByRole('button', { name: /^Delete memory/ }).count()).resolves.toBe(0);
    await context.close();
  }, 180_000);

  it("shows on a run's page the lessons its planner was given and the lessons the judge drew from it", async () => {
    // The real planner recalls the memorized lesson at the first plan (its script plays only if the request has it).
    await runToEnd('mem-console-reader', RECALL_GOAL, { recall: true, learn: false });
    const recalled = (await triad.events('mem-console-reader')).find((e) => e.type === 'memory.recalled');
    const score = recalled?.type === 'memory.recalled' ? recalled.lessons[0]?.score : undefined;
    expect(recalled).toMatchObject({
      lessons: [{ id: learned.id, untrusted: true, sourceRunId: 'mem-console-writer' }],
    });

    const { context, page } = await signedIn(KEYS.viewer);
    await page.goto(`${gw.url}/console/runs/mem-console-reader`);
    const used = page.getByRole('region', { name: 'Lessons used' });
    await used.waitFor();
    const item = used.locator(`li[data-memory-id="${learned.id}"]`);
    await expect(item.textContent()).resolves.toContain(LESSON);
    await expect(item.textContent()).resolves.toContain(`score ${score?.toFixed(2)}`);
    await expect(item.locator('.badge-untrusted').count()).resolves.toBe(1);
    await page.locator('li[data-event-type="memory.recalled"]').filter({ hasText: LESSON }).waitFor();
    // It learned nothing (learning was off for its goal).
    await expect(page.getByRole('region', { name: 'Lessons learned' }).count()).resolves.toBe(0);

    // The source run's page: the lessons the judge drew from it, and no lessons used.
    await item.getByRole('link', { name: 'mem-console-writer' }).click();
    await page.waitForURL(/\/console\/runs\/mem-console-writer$/);
    const learnedSection = page.getByRole('region', { name: 'Lessons learned' });
    await learnedSection.waitFor();
    const lesson = learnedSection.locator(`li[data-memory-id="${distilled.id}"]`);
    await expect(lesson.textContent()).resolves.toContain(DISTILLED);
    // Distilled from a history that holds tool output: untrusted.
    await expect(lesson.locator('.badge-untrusted').count()).resolves.toBe(1);
    await page.locator('li[data-event-type="memory.learned"]').filter({ hasText: DISTILLED }).waitFor();
    await expect(page.getByRole('region', { name: 'Lessons used' }).count()).resolves.toBe(0);
    await context.close();
  }, 180_000);
});
