import { afterAll, describe, expect, it } from '@jest/globals';
import {
  GoalRequest,
  type GoalRequestInput,
  type JudgeJob,
  jobIds,
  loadConfig,
  PlanDecision,
  RunStore,
  StepResult,
  setTelemetryState,
  type TraceSpan,
  type TriadConfig,
  type Verdict,
} from '@triad/shared';
import { deleteKeys, RecordingStageContext, recordingLoop, ScriptedReasoningModel, specPrefix } from '@triad/testing';
import { Redis } from 'ioredis';
import { JudgeService } from './judge.service.js';

// The judge's own stage (its verdict rules, policy and model calls) with the real store; the model is scripted.
// The stage runs through a RunLoop over recording queues, since its verdicts are read back from the run's record;
// the loop's own protocol is specified in libs/shared/src/loop/run-loop.spec.ts.
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
  /** The iteration the run is at; the planner's decision for it is an answer, or tool calls. */
  iteration?: number;
  answer?: string | null;
  /** With tool calls: whether each step's observation is on record (a step that failed for good has none). */
  observed?: boolean;
}

let runs = 0;
/** A judge over a scripted model, and a run whose current iteration was planned and acted on, awaiting its verdict. */
async function setup(s: Setup = {}) {
  const model = new ScriptedReasoningModel(s.replies ?? []);
  const config: TriadConfig = { ...loadConfig({}), judgePolicy: s.policy ?? 'answers' };
  const judge = new JudgeService(model, config);
  const runId = `j${++runs}`;
  const iteration = s.iteration ?? 1;
  await store.create(runId, GoalRequest.parse({ goal: 'add 1 and 2', ...s.goal }), s.createdAt);
  const answer = s.answer === undefined ? 'It is 3.' : s.answer;
  const toolCalls =
    answer === null ? [{ stepId: `${iteration}-0`, callId: 'c', tool: 'calculator', arguments: '{}' }] : [];
  const decision = { iteration, model: 'm', thought: null, toolCalls, answer, inputTokens: 0, outputTokens: 0 };
  await store.once(runId, `plan:${iteration}`, PlanDecision, decision);
  for (const c of s.observed === false ? [] : toolCalls) {
    // As the executor's stage records it: in the ledger, with its observation event (what the judge reads).
    const result = { ...c, executor: 'e', durationMs: 1, observation: { ok: true as const, data: 3 } };
    await store.once(runId, `step:${c.stepId}`, StepResult, result, [{ type: 'observation', iteration, ...result }]);
  }
  await redis.hset(store.keys.run(runId), { iteration, phase: answer === null ? 'act' : 'judge' });
  const job: JudgeJob = { runId, iteration, kind: answer === null ? 'observe' : 'answer' };
  const fakes = recordingLoop(store);
  const judgeIt = (j: JudgeJob = job) => fakes.loop.judge(j, new RecordingStageContext(), judge);
  return { model, runId, job, judgeIt, ...fakes };
}

const verdictOf = async (runId: string) => (await store.events(runId)).filter((e) => e.type === 'verdict').at(-1);
const reflectionOf = async (runId: string) => (await store.events(runId)).filter((e) => e.type === 'reflection').at(-1);

describe('JudgeService verdicts', () => {
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
      const { model, plan, runId, judgeIt } = await setup({
        policy,
        replies: REPLIES[reply],
        answer,
        iteration,
        goal: { budget: { maxIterations: 3 } },
      });
      await judgeIt();
      const run = await store.get(runId);
      expect([run?.status, (await verdictOf(runId))?.decision, model.requests.length]).toEqual([
        status,
        decision,
        modelCalls,
      ]);
      expect(run?.usage.modelCalls).toBe(modelCalls);
      if (status === 'running') {
        // Sent back: the run moves to the next iteration's plan, and the planner gets the critique through events.
        expect([run?.iteration, run?.phase]).toEqual([iteration + 1, 'plan']);
        expect(plan.jobs.map((j) => j.opts.jobId)).toEqual([jobIds.plan(runId, iteration + 1)]);
        expect(await reflectionOf(runId)).toMatchObject({
          text: policy === 'checks' ? 'The answer is empty.' : 'Show the working.',
        });
      } else {
        expect(plan.jobs).toHaveLength(0);
      }
      if (status === 'succeeded') expect(run?.answer).toBe(answer);
    },
  );

  it("records the judge model's reply with its verdict, and a replay plays it without asking the model", async () => {
    const { model, runId, judgeIt } = await setup({ replies: [REVISE] });
    await judgeIt();
    const verdict = JSON.parse((await redis.hget(store.keys.once(runId), 'verdict:1')) as string) as Verdict;
    expect(verdict.review).toMatchObject({ content: REVISE.content, model: expect.any(String) });
    expect(model.requests).toHaveLength(1);

    // The replay: the recorded verdict (with its review) is its recording; the model has no reply left to give.
    const replay = await setup({ replies: [], goal: { replayOf: { runId } } });
    await redis.hset(store.keys.once(replay.runId), 'rec:verdict:1', JSON.stringify(verdict));
    await replay.judgeIt();
    expect(replay.model.requests).toHaveLength(0);
    expect(await reflectionOf(replay.runId)).toMatchObject({ text: 'Show the working.' });
    const replayed = JSON.parse((await redis.hget(store.keys.once(replay.runId), 'verdict:1')) as string);
    expect(replayed).toEqual(verdict);
  });

  it('continues after tool calls without a model call under the answers policy', async () => {
    const { model, plan, runId, judgeIt } = await setup({ answer: null });
    expect(await judgeIt()).toBe('continue with iteration 2');
    expect(model.requests).toHaveLength(0);
    expect(await store.get(runId)).toMatchObject({ status: 'running', iteration: 2, phase: 'plan' });
    expect(plan.jobs.map((j) => j.opts.jobId)).toEqual([jobIds.plan(runId, 2)]);
    expect((await verdictOf(runId))?.decision).toBe('continue');
  });

  it('asks the model to reflect on tool calls under the always policy, and passes its critique on', async () => {
    const { model, runId, judgeIt } = await setup({
      answer: null,
      policy: 'always',
      replies: [{ content: '{"critique":"Check the sum twice."}' }],
    });
    expect(await judgeIt()).toBe('continue with iteration 2');
    expect(model.requests).toHaveLength(1);
    expect(await reflectionOf(runId)).toMatchObject({ text: 'Check the sum twice.' });
    expect((await store.get(runId))?.usage.modelCalls).toBe(1);
  });

  it('reads each step’s observation from the run’s events, and reports a step with none as failed', async () => {
    const { runId, judgeIt } = await setup({ answer: null, observed: false });
    expect(await judgeIt()).toBe('continue with iteration 2');
    const reflection = await reflectionOf(runId);
    expect(reflection?.type === 'reflection' && reflection.checks).toEqual([
      '1 of 1 tool calls failed: calculator (tool_error).',
    ]);
    const observed = await setup({ answer: null });
    await observed.judgeIt();
    expect(await reflectionOf(observed.runId)).toMatchObject({ checks: [] });
  });

  it('ends the run when the last iteration used only tool calls', async () => {
    const { runId, judgeIt } = await setup({ answer: null, iteration: 2, goal: { budget: { maxIterations: 2 } } });
    expect(await judgeIt()).toBe('run budget_exceeded: maxIterations: 2 of 2 used with no answer');
    expect(await store.get(runId)).toMatchObject({ status: 'budget_exceeded', error: { code: 'budget_exceeded' } });
  });

  it('ends the run before its own model call when the budget is used up', async () => {
    const { model, runId, judgeIt, results } = await setup({
      replies: [ACCEPT],
      goal: { budget: { timeoutMs: 1_000 } },
      createdAt: Date.now() - 5_000,
    });
    expect(await judgeIt()).toBe('run budget_exceeded: timeoutMs: run older than 1000 ms');
    expect(model.requests).toHaveLength(0);
    expect((await store.get(runId))?.status).toBe('budget_exceeded');
    expect((await verdictOf(runId))?.decision).toBe('stop');
    expect(results.jobs.map((j) => j.opts.jobId)).toEqual([jobIds.runFinished(runId)]);
  });

  it('does not ask the model again when its job is delivered again after the run moved on', async () => {
    const { model, plan, runId, judgeIt } = await setup({ replies: [REVISE] });
    await judgeIt();
    const before = await store.events(runId);
    expect(await judgeIt()).toBe('duplicate: run is at 2/plan');
    expect(model.requests).toHaveLength(1);
    expect(plan.jobs.map((j) => j.opts.jobId)).toEqual([jobIds.plan(runId, 2), jobIds.plan(runId, 2)]);
    expect(await store.events(runId)).toEqual(before);
  });

  it('republishes the result of an ended run and ignores a job for an iteration the run is not at', async () => {
    const ended = await setup({ replies: [ACCEPT] });
    await ended.judgeIt();
    expect(await ended.judgeIt()).toBe('run already succeeded');
    expect(ended.results.jobs.map((j) => j.opts.jobId)).toEqual([
      jobIds.runFinished(ended.runId),
      jobIds.runFinished(ended.runId),
    ]);
    const stale = await setup({ replies: [ACCEPT] });
    expect(await stale.judgeIt({ ...stale.job, iteration: 5 })).toBe('duplicate: run is at 1/judge');
    expect(stale.model.requests).toHaveLength(0);
  });
});

describe('JudgeService.describe', () => {
  afterAll(() => setTelemetryState({ traceContent: false }));

  it.each([false, true])('marks the span with the verdict; its reason only with content capture on (%s)', (content) => {
    setTelemetryState({ traceContent: content });
    const judge = new JudgeService(new ScriptedReasoningModel(), loadConfig({}));
    const marks: Array<[string, unknown]> = [];
    const span = {
      addEvent: (name: string, attrs: unknown) => void marks.push([name, attrs]),
      setAttribute: (key: string, value: unknown) => void marks.push([key, value]),
    } as unknown as TraceSpan;
    const verdict: Verdict = { next: 'finish', status: 'failed', answer: null, reason: 'model text', checks: [] };
    judge.describe(span, verdict);
    const evaluation = {
      'gen_ai.evaluation.name': 'triad.verdict',
      'gen_ai.evaluation.score.label': 'failed',
      'triad.run.status': 'failed',
      ...(content ? { 'gen_ai.evaluation.explanation': 'model text' } : {}),
    };
    expect(marks).toEqual([
      ['gen_ai.evaluation.result', evaluation],
      ['triad.verdict', 'failed'],
    ]);
  });
});
