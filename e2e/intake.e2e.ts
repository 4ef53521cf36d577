// Hostile and repeated input: malformed goal jobs, the same runId twice, redelivered act/judge/plan jobs.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Scenario } from '@triad/testing';
import type { Job } from 'bullmq';
import { ACCEPT, acceptedScript } from './support/scripts.js';
import { TriadHarness } from './support/triad-harness.js';

const scenario: Scenario = {
  scripts: [
    acceptedScript(
      'simple',
      [
        { content: 'Add.', toolCalls: [{ id: 'a', name: 'calculator', arguments: { expression: '20 + 22' } }] },
        { content: 'It is {{tool:a.data.result}}.' },
      ],
      [ACCEPT, ACCEPT, ACCEPT],
    ),
    acceptedScript(
      'slow',
      [
        {
          content: 'Two sums.',
          toolCalls: [
            { id: 'x', name: 'calculator', arguments: { expression: '1 + 1' } },
            { id: 'y', name: 'calculator', arguments: { expression: '2 + 2' } },
          ],
        },
        // The planner's second call takes a while: the window in which the duplicates below arrive.
        { content: 'Sums are {{tool:x.data.result}} and {{tool:y.data.result}}.', delayMs: 2_500 },
      ],
      [ACCEPT],
    ),
  ],
};

let triad: TriadHarness;
beforeAll(async () => {
  triad = await TriadHarness.start({ scenario, executors: 1 });
});
afterAll(async () => {
  await triad?.stop();
});

function settled(job: Job): Promise<'completed' | 'failed'> {
  return triad.eventually(
    async () => {
      const state = await job.getState();
      return (state === 'completed' || state === 'failed') && state;
    },
    { what: `job ${job.id} to settle` },
  );
}

describe('malformed goal jobs', () => {
  it('are rejected with a recorded reason, and the workers go on serving the next goal', async () => {
    const bad = [
      {
        jobId: 'bad-missing',
        name: 'goal',
        data: { tools: ['calculator'] },
        runId: 'rejected-bad-missing',
        reason: /goal/,
      },
      {
        jobId: 'bad-types',
        name: 'goal',
        data: { goal: 42, runId: 'bad-types', budget: 'lots' },
        runId: 'bad-types',
        reason: /budget/,
      },
      {
        jobId: 'bad-huge',
        name: 'goal',
        data: { goal: 'x'.repeat(5 * 1024 * 1024) },
        runId: 'rejected-bad-huge',
        reason: /bytes/,
      },
      {
        jobId: 'bad-name',
        name: 'gaol',
        data: { goal: 'goal:simple' },
        runId: 'rejected-bad-name',
        reason: /expected "goal"/,
      },
    ];
    const jobs = await Promise.all(bad.map((b) => triad.queues.goals.add(b.name, b.data, { jobId: b.jobId })));
    const good = await triad.submit({ goal: 'goal:simple after bad input', runId: 'after-bad' });

    for (const [i, b] of bad.entries()) {
      expect(await settled(jobs[i])).toBe('failed');
      const failed = await triad.queues.goals.getJob(b.jobId);
      expect(failed?.failedReason).toMatch(b.reason);
      expect(failed?.attemptsMade).toBe(1); // refused for good, not retried
      const run = await triad.waitForRun(b.runId, 10_000);
      expect(run).toMatchObject({ status: 'failed', error: { code: 'invalid_goal' } });
      expect(run.error?.message).toMatch(b.reason);
      const finished = await triad.runFinished(b.runId);
      expect(finished.data).toMatchObject({ runId: b.runId, status: 'failed' });
    }
    expect((await triad.waitForRun(good)).status).toBe('succeeded');
    expect(triad.services.every((s) => s.child.exitCode === null)).toBe(true);
  });
});

describe('duplicates', () => {
  it('makes one run of the same runId submitted twice', async () => {
    const first = await triad.queues.goals.add('goal', { goal: 'goal:simple twice', runId: 'twice' });
    const second = await triad.queues.goals.add('goal', { goal: 'goal:simple twice', runId: 'twice' });
    expect(first.id).not.toBe(second.id);
    expect([await settled(first), await settled(second)]).toEqual(['completed', 'completed']);
    const run = await triad.waitForRun('twice');
    expect(run.status).toBe('succeeded');
    const events = await triad.events('twice');
    expect(events.filter((e) => e.type === 'goal.received')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'thought')).toHaveLength(2);
    expect(run.usage.modelCalls).toBe(3); // two planner turns, one judge review
  });

  it('ignores redelivered act, judge and plan jobs, mid-run and after the end', async () => {
    const runId = await triad.submit({ goal: 'goal:slow', runId: 'redelivered' });
    // Wait until iteration 1 is judged and the planner is busy with iteration 2.
    await triad.eventually(async () => (await triad.store.get(runId))?.iteration === 2, {
      what: 'the run to reach iteration 2',
    });
    const duplicates = async (tag: string) =>
      Promise.all([
        triad.queues.act.add('act', { runId, iteration: 1, stepId: '1-0' }, { jobId: `dup-${tag}-act` }),
        triad.queues.act.add('act', { runId, iteration: 1, stepId: '1-1' }, { jobId: `dup-${tag}-act2` }),
        triad.queues.judge.add('judge', { runId, iteration: 1, kind: 'observe' }, { jobId: `dup-${tag}-judge` }),
        triad.queues.plan.add('plan', { runId, iteration: 1 }, { jobId: `dup-${tag}-plan` }),
      ]);
    const mid = await duplicates('mid');
    // They arrived mid-run: the run had done iteration 1's work, and was still running after they were added.
    const afterAdding = await triad.store.get(runId);
    expect(afterAdding).toMatchObject({ status: 'running', iteration: 2 });
    const before = await triad.events(runId);
    expect(
      before
        .filter((e) => e.type === 'observation')
        .map((e) => e.type === 'observation' && e.stepId)
        .sort(),
    ).toEqual(['1-0', '1-1']);
    for (const job of mid) expect(await settled(job)).toBe('completed');

    const run = await triad.waitForRun(runId);
    expect(run).toMatchObject({ status: 'succeeded', answer: 'Sums are 2 and 4.', iteration: 2 });
    expect(run.usage).toMatchObject({ toolCalls: 2, modelCalls: 3 });
    const events = await triad.events(runId);
    expect(events.filter((e) => e.type === 'observation')).toHaveLength(2);
    expect(events.filter((e) => e.type === 'verdict')).toHaveLength(2);
    const modelRequests = triad.model.requests.length;

    const late = await duplicates('late');
    for (const job of late) expect(await settled(job)).toBe('completed');
    expect(await triad.events(runId)).toEqual(events);
    expect(await triad.store.get(runId)).toEqual(run);
    expect(triad.model.requests.length).toBe(modelRequests);
  });
});
