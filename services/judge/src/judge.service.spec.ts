import { afterAll, describe, expect, it } from '@jest/globals';
import {
  GoalRequest,
  type GoalRequestInput,
  type JudgeJob,
  jobIds,
  loadConfig,
  PlanDecision,
  QUEUES,
  RunFinisher,
  RunStore,
  StepResult,
  type TriadConfig,
} from '@triad/shared';
import { deleteKeys, RecordingQueue, ScriptedReasoningModel, specPrefix } from '@triad/testing';
import type { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { JudgeService } from './judge.service.js';

// The judge's decisions with its real logic and store (Lua on Redis); the model and queues are fakes that record
// what they were asked.
const redis = new Redis(process.env.REDIS_URL || 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
const prefix = specPrefix('judge');
const store = new RunStore(redis, prefix);

afterAll(async () => {
  await deleteKeys(redis, prefix);
  await redis.quit();
});

const ACCEPT = { content: '{"verdict":"accept","critique":""}' };
const REVISE = { content: '{"verdict":"revise","critique":"Show the working."}' };
const REPLIES = { accept: [ACCEPT], revise: [REVISE], none: [] };

interface Setup {
  replies?: ConstructorParameters<typeof ScriptedReasoningModel>[0];
  policy?: TriadConfig['judgePolicy'];
  goal?: Partial<GoalRequestInput>;
  createdAt?: number;
  /** The iteration the run is at; the planner's decision for it is an answer, or tool calls that each succeeded. */
  iteration?: number;
  answer?: string | null;
}

let runs = 0;
/** A judge over fresh fakes, and a run whose current iteration was planned and acted on, waiting for its verdict. */
async function setup(s: Setup = {}) {
  const model = new ScriptedReasoningModel(s.replies ?? []);
  const [planQueue, results] = [new RecordingQueue(QUEUES.plan), new RecordingQueue(QUEUES.results)];
  const config: TriadConfig = { ...loadConfig({}), judgePolicy: s.policy ?? 'answers' };
  const judge = new JudgeService(
    store,
    new RunFinisher(store, results as unknown as Queue),
    model,
    config,
    planQueue as unknown as Queue,
  );
  const runId = `j${++runs}`;
  const iteration = s.iteration ?? 1;
  await store.create(runId, GoalRequest.parse({ goal: 'add 1 and 2', ...s.goal }), s.createdAt);
  for (let i = 1; i < iteration; i++)
    await store.transition(runId, { iteration: i, phase: 'plan' }, { iteration: i + 1, phase: 'plan' });
  const answer = s.answer === undefined ? 'It is 3.' : s.answer;
  const toolCalls =
    answer === null ? [{ stepId: `${iteration}-0`, callId: 'c', tool: 'calculator', arguments: '{}' }] : [];
  const decision = { iteration, model: 'm', thought: null, toolCalls, answer, inputTokens: 0, outputTokens: 0 };
  await store.once(runId, `plan:${iteration}`, PlanDecision, decision);
  for (const c of toolCalls) {
    const observation = { ok: true as const, data: 3 };
    await store.once(runId, `step:${c.stepId}`, StepResult, { ...c, executor: 'e', durationMs: 1, observation });
  }
  const phase = answer === null ? 'act' : 'judge';
  await store.transition(runId, { iteration, phase: 'plan' }, { phase });
  const job: JudgeJob = { runId, iteration, kind: answer === null ? 'observe' : 'answer' };
  return { judge, model, planQueue, results, runId, job };
}

const verdictOf = async (runId: string) => (await store.events(runId)).filter((e) => e.type === 'verdict').at(-1);

describe('JudgeService decisions', () => {
  it.each([
    // policy, model replies, answer, iteration of maxIterations → run status, verdict decision, model calls
    ['answers', 'accept', 'It is 3.', 1, 'succeeded', 'accept', 1],
    ['answers', 'revise', 'It is 3.', 1, 'running', 'reject', 1],
    ['answers', 'revise', 'It is 3.', 3, 'budget_exceeded', 'stop', 1],
    ['checks', 'none', 'It is 3.', 1, 'succeeded', 'accept', 0],
    ['checks', 'none', '   ', 1, 'running', 'reject', 0],
  ] as const)(
    'judges a proposed answer (policy %s, model says %s, answer %j, iteration %i of 3): run %s, verdict %s',
    async (policy, reply, answer, iteration, status, decision, modelCalls) => {
      const { judge, model, planQueue, runId, job } = await setup({
        policy,
        replies: REPLIES[reply],
        answer,
        iteration,
        goal: { budget: { maxIterations: 3 } },
      });
      await judge.judge(job);
      const run = await store.get(runId);
      expect([run?.status, (await verdictOf(runId))?.decision, model.requests.length]).toEqual([
        status,
        decision,
        modelCalls,
      ]);
      if (status === 'running') {
        // Sent back: the run moves to the next iteration's plan, and the planner gets the critique through events.
        expect([run?.iteration, run?.phase]).toEqual([iteration + 1, 'plan']);
        expect(planQueue.jobs.map((j) => j.opts.jobId)).toEqual([jobIds.plan(runId, iteration + 1)]);
      } else {
        expect(planQueue.jobs).toHaveLength(0);
      }
      if (status === 'succeeded') expect(run?.answer).toBe(answer);
    },
  );

  it('continues after tool calls without a model call under the answers policy', async () => {
    const { judge, model, planQueue, runId, job } = await setup({ answer: null });
    expect(await judge.judge(job)).toBe('continue with iteration 2');
    expect(model.requests).toHaveLength(0);
    expect(await store.get(runId)).toMatchObject({ status: 'running', iteration: 2, phase: 'plan' });
    expect(planQueue.jobs.map((j) => j.opts.jobId)).toEqual([jobIds.plan(runId, 2)]);
    expect((await verdictOf(runId))?.decision).toBe('continue');
  });

  it('asks the model to reflect on tool calls under the always policy, and passes its critique on', async () => {
    const { judge, model, runId, job } = await setup({
      answer: null,
      policy: 'always',
      replies: [{ content: '{"critique":"Check the sum twice."}' }],
    });
    expect(await judge.judge(job)).toBe('continue with iteration 2');
    expect(model.requests).toHaveLength(1);
    const reflection = (await store.events(runId)).find((e) => e.type === 'reflection');
    expect(reflection).toMatchObject({ text: 'Check the sum twice.' });
  });

  it('ends the run when the last iteration used only tool calls', async () => {
    const { judge, runId, job } = await setup({ answer: null, iteration: 2, goal: { budget: { maxIterations: 2 } } });
    expect(await judge.judge(job)).toBe('run budget_exceeded: maxIterations: 2 of 2 used with no answer');
    expect(await store.get(runId)).toMatchObject({ status: 'budget_exceeded', error: { code: 'budget_exceeded' } });
  });

  it('ends the run before its own model call when the budget is used up', async () => {
    const { judge, model, runId, job } = await setup({
      replies: [ACCEPT],
      goal: { budget: { timeoutMs: 1_000 } },
      createdAt: Date.now() - 5_000,
    });
    expect(await judge.judge(job)).toBe('run budget_exceeded: timeoutMs: run older than 1000 ms');
    expect(model.requests).toHaveLength(0);
    expect((await store.get(runId))?.status).toBe('budget_exceeded');
  });

  it('repeats only the hand-off when its job is delivered again after the run moved on', async () => {
    const { judge, model, planQueue, runId, job } = await setup({ answer: null });
    await judge.judge(job);
    const before = await store.events(runId);
    expect(await judge.judge(job)).toBe('duplicate: run is at 2/plan');
    expect(model.requests).toHaveLength(0);
    expect(planQueue.jobs.map((j) => j.opts.jobId)).toEqual([jobIds.plan(runId, 2), jobIds.plan(runId, 2)]);
    expect(await store.events(runId)).toEqual(before);
  });

  it('republishes the result of an ended run and ignores a job for an iteration the run is not at', async () => {
    const ended = await setup({ replies: [ACCEPT] });
    await ended.judge.judge(ended.job);
    expect(await ended.judge.judge(ended.job)).toBe('run already succeeded');
    expect(ended.results.jobs.map((j) => j.opts.jobId)).toEqual([
      jobIds.runFinished(ended.runId),
      jobIds.runFinished(ended.runId),
    ]);
    const stale = await setup();
    expect(await stale.judge.judge({ ...stale.job, iteration: 5 })).toBe('duplicate: run is at 1/judge');
    expect(stale.model.requests).toHaveLength(0);
  });
});
