import { afterAll, describe, expect, it } from '@jest/globals';
// Through the package, like the services: the fakes of @triad/testing are typed against it.
import {
  type ActStage,
  GoalRequest,
  type GoalRequestInput,
  type JudgeStage,
  type JudgeView,
  jobIds,
  type NewRunEvent,
  type PlanDecision,
  PlanDecision as PlanDecisionSchema,
  type PlanStage,
  type RunPhase,
  RunStore,
  type StepResult,
  StepResult as StepResultSchema,
  stepIdOf,
  type Verdict,
  Verdict as VerdictSchema,
} from '@triad/shared';
import { deleteKeys, RecordingStageContext, recordingLoop, specPrefix } from '@triad/testing';
import { Redis } from 'ioredis';

// The loop's protocol with the real store (its reads and writes are Lua and pipelines on Redis) and simple stage
// functions; the queues are recording fakes, so what each stage handed off can be read back.
const redis = new Redis(process.env.REDIS_URL || 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
const prefix = specPrefix('run-loop');
const store = new RunStore(redis, prefix);
const ctx = new RecordingStageContext();

afterAll(async () => {
  await deleteKeys(redis, prefix);
  await redis.quit();
});

let runs = 0;
/** A running run, put at (iteration, phase) as the stages before it would have left it. */
async function runAt(
  iteration = 1,
  phase: RunPhase = 'plan',
  goal: GoalRequestInput = { goal: 'g' },
  createdAt?: number,
) {
  const runId = `l${++runs}`;
  await store.create(runId, GoalRequest.parse(goal), createdAt);
  await redis.hset(store.keys.run(runId), { iteration, phase });
  return runId;
}

const decisionOf = (iteration: number, tools: string[], answer: string | null = null): PlanDecision => ({
  iteration,
  model: 'm',
  thought: tools.length ? 'use tools' : null,
  toolCalls: tools.map((tool, i) => ({ stepId: stepIdOf(iteration, i), callId: `c${i}`, tool, arguments: '{}' })),
  answer,
  inputTokens: 3,
  outputTokens: 2,
});

/** A plan stage answering with `decision` (with one thought event and one model call), counting its calls. */
function planStage(decision: PlanDecision) {
  const stage = Object.assign(
    (async () => {
      stage.calls++;
      const events: NewRunEvent[] = [
        {
          type: 'thought',
          iteration: decision.iteration,
          stage: 'plan',
          text: 't',
          model: 'm',
          inputTokens: 3,
          outputTokens: 2,
        },
      ];
      return { value: decision, events, usage: { modelCalls: 1, inputTokens: 3, outputTokens: 2 } };
    }) as PlanStage,
    { calls: 0 },
  );
  return stage;
}

/** A judge stage reaching `verdict`, recording what it was shown and what it described. */
function judgeStage(verdict: Verdict) {
  const seen: JudgeView[] = [];
  const described: Verdict[] = [];
  const stage: JudgeStage = {
    decide: async (view) => {
      seen.push(view);
      const decision = verdict.next === 'plan' ? 'continue' : verdict.status === 'succeeded' ? 'accept' : 'stop';
      return { value: verdict, events: [{ type: 'verdict', iteration: view.job.iteration, decision, reason: 'r' }] };
    },
    describe: (_span, v) => void described.push(v),
  };
  return { stage, seen, described };
}

const CONTINUE: Verdict = { next: 'plan', critique: null, checks: [] };
const SUCCEED: Verdict = { next: 'finish', status: 'succeeded', answer: 'It is 3.', reason: 'accepted', checks: [] };

const types = async (runId: string) => (await store.events(runId)).map((e) => e.type);
const position = async (runId: string) => {
  const run = await store.get(runId);
  return [run?.status, run?.iteration, run?.phase];
};

describe('RunLoop.plan', () => {
  it('does nothing for a run that does not exist', async () => {
    const { loop, plan, judge, flows } = recordingLoop(store);
    const stage = planStage(decisionOf(1, [], 'x'));
    expect(await loop.plan({ runId: 'no-such-run', iteration: 1 }, ctx, stage)).toBe('run no-such-run does not exist');
    expect([stage.calls, plan.jobs.length, judge.jobs.length, flows.flows.length]).toEqual([0, 0, 0, 0]);
  });

  it('republishes the result of a run that has ended, without running its stage', async () => {
    const { loop, results } = recordingLoop(store);
    const runId = await runAt();
    await store.finish(runId, { status: 'cancelled', iteration: 1, reason: 'stop' });
    const stage = planStage(decisionOf(1, [], 'x'));
    expect(await loop.plan({ runId, iteration: 1 }, ctx, stage)).toBe('run already cancelled');
    expect(results.jobs.map((j) => j.opts.jobId)).toEqual([jobIds.runFinished(runId)]);
    expect(stage.calls).toBe(0);
  });

  it('ends the run as budget_exceeded before its stage (the model call) when the budget is used up', async () => {
    const { loop, results, judge, flows } = recordingLoop(store);
    const runId = await runAt(1, 'plan', { goal: 'slow', budget: { timeoutMs: 1_000 } }, Date.now() - 5_000);
    const stage = planStage(decisionOf(1, [], 'x'));
    expect(await loop.plan({ runId, iteration: 1 }, ctx, stage)).toBe('timeoutMs: run older than 1000 ms');
    expect(stage.calls).toBe(0);
    expect(await store.get(runId)).toMatchObject({
      status: 'budget_exceeded',
      error: { code: 'budget_exceeded' },
      usage: { modelCalls: 0 },
    });
    expect(results.jobs.map((j) => j.opts.jobId)).toEqual([jobIds.runFinished(runId)]);
    expect([judge.jobs.length, flows.flows.length]).toEqual([0, 0]);
  });

  it('records tool calls with their events and usage, moves to act, and hands off a flow: judge parent, act children', async () => {
    const { loop, judge, flows } = recordingLoop(store);
    const runId = await runAt();
    const stage = planStage(decisionOf(1, ['calculator', 'http_get']));
    expect(await loop.plan({ runId, iteration: 1 }, ctx, stage)).toBe('2 tool calls');
    expect(await store.get(runId)).toMatchObject({
      iteration: 1,
      phase: 'act',
      usage: { modelCalls: 1, inputTokens: 3, outputTokens: 2 },
    });
    expect(await store.getOnce(runId, 'plan:1', PlanDecisionSchema)).toEqual(decisionOf(1, ['calculator', 'http_get']));
    expect((await types(runId)).slice(2)).toEqual(['thought']);
    expect(judge.jobs).toHaveLength(0);
    const [flow] = flows.flows;
    expect([flows.flows.length, flow?.queueName, flow?.opts.jobId, flow?.data]).toEqual([
      1,
      'judge',
      jobIds.judge(runId, 1),
      { runId, iteration: 1, kind: 'observe' },
    ]);
    expect(flow?.children.map((c) => [c.queueName, c.opts.jobId, c.data])).toEqual([
      ['act', jobIds.act(runId, '1-0'), { runId, iteration: 1, stepId: '1-0' }],
      ['act', jobIds.act(runId, '1-1'), { runId, iteration: 1, stepId: '1-1' }],
    ]);
  });

  it('sends a decision without tool calls to the judge as a proposed answer', async () => {
    const { loop, judge, flows } = recordingLoop(store);
    const runId = await runAt();
    expect(await loop.plan({ runId, iteration: 1 }, ctx, planStage(decisionOf(1, [], 'It is 3.')))).toBe(
      'answer proposed',
    );
    expect(await position(runId)).toEqual(['running', 1, 'judge']);
    expect(flows.flows).toHaveLength(0);
    expect(judge.jobs.map((j) => [j.name, j.opts.jobId, j.data])).toEqual([
      ['judge', jobIds.judge(runId, 1), { runId, iteration: 1, kind: 'answer' }],
    ]);
  });

  it('repeats only the hand-off when a plan job is delivered again after the run moved on', async () => {
    const { loop, judge } = recordingLoop(store);
    const runId = await runAt();
    const stage = planStage(decisionOf(1, [], 'It is 3.'));
    await loop.plan({ runId, iteration: 1 }, ctx, stage);
    const [before, usage] = [await store.events(runId), (await store.get(runId))?.usage];
    expect(await loop.plan({ runId, iteration: 1 }, ctx, stage)).toBe('duplicate: run is at 1/judge');
    expect(stage.calls).toBe(1);
    // The same deterministic job id twice: BullMQ keeps one; a first delivery that died before it is rescued.
    expect(judge.jobs.map((j) => j.opts.jobId)).toEqual([jobIds.judge(runId, 1), jobIds.judge(runId, 1)]);
    expect(await store.events(runId)).toEqual(before);
    expect((await store.get(runId))?.usage).toEqual(usage);
  });

  it('hands off again when the process died between moving the run and handing off', async () => {
    const { loop, flows } = recordingLoop(store);
    const runId = await runAt();
    const stage = planStage(decisionOf(1, ['calculator']));
    flows.failNext(new Error('process died'));
    await expect(loop.plan({ runId, iteration: 1 }, ctx, stage)).rejects.toThrow('process died');
    expect([await position(runId), flows.flows.length]).toEqual([['running', 1, 'act'], 0]);
    expect(await loop.plan({ runId, iteration: 1 }, ctx, stage)).toBe('duplicate: run is at 1/act');
    expect(stage.calls).toBe(1);
    expect(flows.flows.map((f) => f.children.map((c) => c.opts.jobId))).toEqual([[jobIds.act(runId, '1-0')]]);
  });

  it('ignores a plan job for an iteration the run is not at', async () => {
    const { loop, judge, flows } = recordingLoop(store);
    const runId = await runAt();
    const stage = planStage(decisionOf(2, [], 'x'));
    expect(await loop.plan({ runId, iteration: 2 }, ctx, stage)).toBe('duplicate: run is at 1/plan');
    expect([stage.calls, judge.jobs.length, flows.flows.length]).toEqual([0, 0, 0]);
    expect(await store.getOnce(runId, 'plan:2', PlanDecisionSchema)).toBeNull();
  });

  it('reuses a recorded decision instead of running its stage again, and charges its usage once', async () => {
    const { loop, judge } = recordingLoop(store);
    const runId = await runAt();
    const stage = planStage(decisionOf(1, [], 'It is 3.'));
    await loop.plan({ runId, iteration: 1 }, ctx, stage);
    // As if the decision was recorded and the run never moved (put back at the plan phase).
    await redis.hset(store.keys.run(runId), 'phase', 'plan');
    expect(await loop.plan({ runId, iteration: 1 }, ctx, stage)).toBe('answer proposed');
    expect(stage.calls).toBe(1);
    expect((await store.get(runId))?.usage.modelCalls).toBe(1);
    expect(await position(runId)).toEqual(['running', 1, 'judge']);
    expect(judge.jobs.map((j) => j.opts.jobId)).toEqual([jobIds.judge(runId, 1), jobIds.judge(runId, 1)]);
  });

  it('reuses a recorded decision even once the budget is used up (its model call was made and paid)', async () => {
    const { loop } = recordingLoop(store);
    const runId = await runAt(1, 'plan', { goal: 'slow', budget: { timeoutMs: 1_000 } }, Date.now() - 5_000);
    await store.once(runId, 'plan:1', PlanDecisionSchema, decisionOf(1, [], 'It is 3.'));
    const stage = planStage(decisionOf(1, [], 'other'));
    expect(await loop.plan({ runId, iteration: 1 }, ctx, stage)).toBe('answer proposed');
    expect([stage.calls, ...(await position(runId))]).toEqual([0, 'running', 1, 'judge']);
  });

  it('moves with the value that won when another delivery recorded its decision first', async () => {
    const { loop, judge, flows } = recordingLoop(store);
    const runId = await runAt();
    const winner = decisionOf(1, [], 'the winner');
    const lateStage: PlanStage = async () => {
      // Another delivery of the same job records its decision while this one waits for the model.
      await store.once(runId, 'plan:1', PlanDecisionSchema, winner, [
        { type: 'answer.proposed', iteration: 1, answer: 'the winner' },
      ]);
      return {
        value: decisionOf(1, ['calculator']),
        events: [
          { type: 'thought', iteration: 1, stage: 'plan', text: 'lost', model: 'm', inputTokens: 1, outputTokens: 1 },
        ],
        usage: { modelCalls: 1 },
      };
    };
    expect(await loop.plan({ runId, iteration: 1 }, ctx, lateStage)).toBe('answer proposed');
    expect(await position(runId)).toEqual(['running', 1, 'judge']);
    expect([judge.jobs.length, flows.flows.length]).toEqual([1, 0]);
    // Only the winner's record, events and usage count.
    expect(await store.getOnce(runId, 'plan:1', PlanDecisionSchema)).toEqual(winner);
    expect((await types(runId)).slice(2)).toEqual(['answer.proposed']);
    expect((await store.get(runId))?.usage.modelCalls).toBe(0);
  });

  it('refuses tool calls beyond the per-reply cap on the record, before the flow exists; never as act jobs', async () => {
    const { loop, flows } = recordingLoop(store, { maxCallsPerReply: 2 });
    const runId = await runAt();
    const stage = planStage(decisionOf(1, ['a', 'b', 'c', 'd']));
    expect(await loop.plan({ runId, iteration: 1 }, ctx, stage)).toBe('4 tool calls');
    expect(flows.flows[0]?.children.map((c) => c.opts.jobId)).toEqual([
      jobIds.act(runId, '1-0'),
      jobIds.act(runId, '1-1'),
    ]);
    for (const [stepId, tool] of [
      ['1-2', 'c'],
      ['1-3', 'd'],
    ]) {
      const refused = (await store.getOnce(runId, `step:${stepId}`, StepResultSchema)) as StepResult;
      expect(refused).toMatchObject({ stepId, tool, executor: 'planner', observation: { ok: false } });
      expect(refused.observation.ok || refused.observation.error.code).toBe('too_many_calls');
      expect(refused.observation.ok || refused.observation.error.message).toContain('at most 2 tool calls');
    }
    const observed = async () => (await store.events(runId)).filter((e) => e.type === 'observation');
    expect((await observed()).map((e) => (e.type === 'observation' ? e.stepId : ''))).toEqual(['1-2', '1-3']);
    // A repeat hand-off refuses them again without a second record.
    await loop.plan({ runId, iteration: 1 }, ctx, stage);
    expect([(await observed()).length, flows.flows.length, (await store.get(runId))?.usage.toolCalls]).toEqual([
      2, 2, 0,
    ]);
  });

  it('publishes the result when the run ended while its stage ran', async () => {
    const { loop, results, judge } = recordingLoop(store);
    const runId = await runAt();
    const cancelling: PlanStage = async () => {
      await store.finish(runId, { status: 'cancelled', iteration: 1, reason: 'user' });
      return { value: decisionOf(1, [], 'late'), events: [] };
    };
    await loop.plan({ runId, iteration: 1 }, ctx, cancelling);
    expect(await position(runId)).toEqual(['cancelled', 1, 'done']);
    expect(results.jobs.map((j) => j.opts.jobId)).toEqual([jobIds.runFinished(runId)]);
    expect(judge.jobs).toHaveLength(0);
  });
});

describe('RunLoop.judge', () => {
  /** A run at (iteration, act|judge) whose decision for that iteration is recorded. */
  async function planned(iteration = 1, goal?: GoalRequestInput, createdAt?: number) {
    const answer = 'It is 3.';
    const runId = await runAt(iteration, 'judge', goal, createdAt);
    await store.once(runId, `plan:${iteration}`, PlanDecisionSchema, decisionOf(iteration, [], answer));
    return { runId, job: { runId, iteration, kind: 'answer' as const } };
  }

  it('records a verdict to go on, moves to the next iteration and hands its plan job off', async () => {
    const { loop, plan } = recordingLoop(store);
    const { runId, job } = await planned();
    const { stage, seen, described } = judgeStage(CONTINUE);
    expect(await loop.judge(job, ctx, stage)).toBe('continue with iteration 2');
    expect(await position(runId)).toEqual(['running', 2, 'plan']);
    expect(plan.jobs.map((j) => [j.opts.jobId, j.data])).toEqual([[jobIds.plan(runId, 2), { runId, iteration: 2 }]]);
    expect(seen[0]).toMatchObject({ job, decision: { answer: 'It is 3.' }, exhausted: null });
    expect(seen[0]?.events.map((e) => e.type)).toEqual(['goal.received', 'status.changed']);
    expect(described).toEqual([CONTINUE]);
    expect(await store.getOnce(runId, 'verdict:1', VerdictSchema)).toEqual(CONTINUE);
  });

  it('ends the run with a finishing verdict, its status.changed after the verdict, and publishes the result', async () => {
    const { loop, plan, results } = recordingLoop(store);
    const { runId, job } = await planned();
    expect(await loop.judge(job, ctx, judgeStage(SUCCEED).stage)).toBe('run succeeded: accepted');
    expect(await store.get(runId)).toMatchObject({
      status: 'succeeded',
      phase: 'done',
      answer: 'It is 3.',
      error: null,
    });
    expect((await types(runId)).slice(-2)).toEqual(['verdict', 'status.changed']);
    expect(results.jobs.map((j) => j.opts.jobId)).toEqual([jobIds.runFinished(runId)]);
    expect(results.jobs[0]?.data).toMatchObject({ runId, status: 'succeeded', answer: 'It is 3.' });
    expect(plan.jobs).toHaveLength(0);
  });

  it.each([
    ['budget_exceeded', 'budget_exceeded'],
    ['failed', 'answer_rejected'],
  ] as const)('ends a run %s with an error coded %s', async (status, code) => {
    const { loop } = recordingLoop(store);
    const { runId, job } = await planned();
    const verdict: Verdict = { next: 'finish', status, answer: null, reason: 'no', checks: [] };
    await loop.judge(job, ctx, judgeStage(verdict).stage);
    expect(await store.get(runId)).toMatchObject({ status, error: { code, message: 'no' } });
  });

  it('shows its stage the used-up budget instead of admitting a model call', async () => {
    const { loop } = recordingLoop(store);
    const { job } = await planned(1, { goal: 'slow', budget: { timeoutMs: 1_000 } }, Date.now() - 5_000);
    const { stage, seen } = judgeStage({ ...SUCCEED, status: 'budget_exceeded' });
    await loop.judge(job, ctx, stage);
    expect(seen[0]?.exhausted).toBe('timeoutMs: run older than 1000 ms');
  });

  it('repeats only the hand-off when its job is delivered again after the run moved on', async () => {
    const { loop, plan } = recordingLoop(store);
    const { runId, job } = await planned();
    const { stage, seen } = judgeStage(CONTINUE);
    await loop.judge(job, ctx, stage);
    const before = await store.events(runId);
    expect(await loop.judge(job, ctx, stage)).toBe('duplicate: run is at 2/plan');
    expect(seen).toHaveLength(1);
    expect(plan.jobs.map((j) => j.opts.jobId)).toEqual([jobIds.plan(runId, 2), jobIds.plan(runId, 2)]);
    expect(await store.events(runId)).toEqual(before);
  });

  it('hands off again when the process died between moving the run and handing off', async () => {
    const { loop, plan } = recordingLoop(store);
    const { runId, job } = await planned();
    const { stage, seen } = judgeStage(CONTINUE);
    plan.failNext(new Error('process died'));
    await expect(loop.judge(job, ctx, stage)).rejects.toThrow('process died');
    expect(await position(runId)).toEqual(['running', 2, 'plan']);
    expect(await loop.judge(job, ctx, stage)).toBe('duplicate: run is at 2/plan');
    expect([seen.length, plan.jobs.map((j) => j.opts.jobId)]).toEqual([1, [jobIds.plan(runId, 2)]]);
  });

  it('republishes the result of an ended run, and ignores a job for an iteration the run is not at', async () => {
    const { loop, results } = recordingLoop(store);
    const { runId, job } = await planned();
    const { stage, seen } = judgeStage(SUCCEED);
    await loop.judge(job, ctx, stage);
    expect(await loop.judge(job, ctx, stage)).toBe('run already succeeded');
    expect(results.jobs.map((j) => j.opts.jobId)).toEqual([jobIds.runFinished(runId), jobIds.runFinished(runId)]);
    const stale = await planned();
    expect(await loop.judge({ ...stale.job, iteration: 5 }, ctx, stage)).toBe('duplicate: run is at 1/judge');
    expect(seen).toHaveLength(1);
  });

  it('reuses a recorded verdict instead of running its stage again', async () => {
    const { loop, plan } = recordingLoop(store);
    const { runId, job } = await planned();
    await store.once(runId, 'verdict:1', VerdictSchema, CONTINUE);
    const { stage, seen, described } = judgeStage(SUCCEED);
    expect(await loop.judge(job, ctx, stage)).toBe('continue with iteration 2');
    expect([seen.length, described]).toEqual([0, [CONTINUE]]);
    expect(plan.jobs.map((j) => j.opts.jobId)).toEqual([jobIds.plan(runId, 2)]);
  });

  it('moves with the verdict that won when another delivery recorded one first', async () => {
    const { loop, results } = recordingLoop(store);
    const { runId, job } = await planned();
    const racing: JudgeStage = {
      decide: async () => {
        await store.once(runId, 'verdict:1', VerdictSchema, SUCCEED);
        return { value: CONTINUE, events: [{ type: 'verdict', iteration: 1, decision: 'continue', reason: 'lost' }] };
      },
      describe: () => {},
    };
    expect(await loop.judge(job, ctx, racing)).toBe('run succeeded: accepted');
    expect(await position(runId)).toEqual(['succeeded', 1, 'done']);
    expect(await types(runId)).not.toContain('verdict');
    expect(results.jobs).toHaveLength(1);
  });

  it('fails the delivery when the iteration has no recorded decision', async () => {
    const { loop } = recordingLoop(store);
    const runId = await runAt(1, 'judge');
    await expect(loop.judge({ runId, iteration: 1, kind: 'answer' }, ctx, judgeStage(CONTINUE).stage)).rejects.toThrow(
      'has no plan for iteration 1',
    );
  });
});

describe('RunLoop.act', () => {
  const ok = (call: { stepId: string; callId: string; tool: string }): StepResult => ({
    ...call,
    executor: 'e',
    durationMs: 1,
    observation: { ok: true, data: 3 },
  });
  /** An act stage that reserves its step and returns `result` (or one made for the call), counting its runs. */
  function actStage(make: (call: StepResult) => { result: StepResult; exhausted?: string } = (r) => ({ result: r })) {
    const stage: ActStage & { runs: number } = {
      runs: 0,
      spanAttributes: () => ({}),
      execute: async (view) => {
        stage.runs++;
        await view.admit(true);
        return make(ok(view.call));
      },
    };
    return stage;
  }
  async function acting(goal?: GoalRequestInput, createdAt?: number) {
    const runId = await runAt(1, 'act', goal, createdAt);
    await store.once(runId, 'plan:1', PlanDecisionSchema, decisionOf(1, ['calculator', 'calculator']));
    return runId;
  }

  it('records a step once with its observation event; a redelivery returns the record without running it', async () => {
    const { loop } = recordingLoop(store);
    const runId = await acting();
    const stage = actStage();
    const first = await loop.act({ runId, iteration: 1, stepId: '1-0' }, ctx, stage);
    expect(first).toMatchObject({ stepId: '1-0', tool: 'calculator', observation: { ok: true } });
    expect(await loop.act({ runId, iteration: 1, stepId: '1-0' }, ctx, stage)).toEqual(first);
    expect(stage.runs).toBe(1);
    expect((await types(runId)).filter((t) => t === 'observation')).toHaveLength(1);
    expect((await store.get(runId))?.usage.toolCalls).toBe(1);
  });

  it('fails the delivery for a step the iteration did not plan', async () => {
    const { loop } = recordingLoop(store);
    const runId = await acting();
    await expect(loop.act({ runId, iteration: 1, stepId: '1-9' }, ctx, actStage())).rejects.toThrow('no tool call 1-9');
  });

  it('ends the run on a used-up budget once the refused call is on record, and publishes the result', async () => {
    const { loop, results } = recordingLoop(store);
    const runId = await acting();
    const refused = actStage((r) => ({
      result: {
        ...r,
        observation: { ok: false, error: { code: 'budget_exceeded', message: 'timeoutMs', retryable: false } },
      },
      exhausted: 'timeoutMs: run older than 1000 ms',
    }));
    await loop.act({ runId, iteration: 1, stepId: '1-0' }, ctx, refused);
    expect(await store.get(runId)).toMatchObject({ status: 'budget_exceeded', error: { code: 'budget_exceeded' } });
    expect((await types(runId)).slice(-2)).toEqual(['observation', 'status.changed']);
    expect(results.jobs.map((j) => j.opts.jobId)).toEqual([jobIds.runFinished(runId)]);
  });
});

describe('RunLoop replays', () => {
  const recorded = (call: { stepId: string; callId: string; tool: string }, data: unknown): StepResult => ({
    ...call,
    executor: 'recorded-executor',
    durationMs: 7,
    observation: { ok: true, data },
  });
  /** A replay run at (1, phase) whose recording holds `ledger` (as the parent's entries). */
  async function replayAt(phase: RunPhase, replayOf: GoalRequestInput['replayOf'], ledger: Record<string, unknown>) {
    const runId = await runAt(1, phase, { goal: 'g', replayOf });
    const entries = Object.fromEntries(Object.entries(ledger).map(([k, v]) => [`rec:${k}`, JSON.stringify(v)]));
    if (Object.keys(entries).length) await redis.hset(store.keys.once(runId), entries);
    return runId;
  }
  const neverRuns: ActStage & { runs: number } = {
    runs: 0,
    spanAttributes: () => ({}),
    execute: async () => {
      neverRuns.runs++;
      throw new Error('a replay ran a tool');
    },
  };

  it('shows the plan stage its recorded reply, and ends the run when the recording has none', async () => {
    const { loop } = recordingLoop(store);
    const decision = decisionOf(1, ['calculator']);
    const runId = await replayAt('plan', { runId: 'p' }, { 'plan:1': decision });
    const seen: (unknown | undefined)[] = [];
    const stage: PlanStage = async (view) => {
      seen.push(view.recorded);
      return { value: decision, events: [] };
    };
    await loop.plan({ runId, iteration: 1 }, ctx, stage);
    expect(seen).toEqual([
      expect.objectContaining({ model: 'm', toolCalls: [{ id: 'c0', name: 'calculator', arguments: '{}' }] }),
    ]);

    const empty = await replayAt('plan', { runId: 'p' }, {});
    expect(await loop.plan({ runId: empty, iteration: 1 }, ctx, stage)).toContain('no planner reply for iteration 1');
    expect(seen).toHaveLength(1);
    expect(await store.get(empty)).toMatchObject({ status: 'failed', error: { code: 'not_recorded' } });
  });

  it('answers a step from the recording without running the tool, counted like the recorded call', async () => {
    const { loop } = recordingLoop(store);
    const step = { stepId: '1-0', callId: 'c0', tool: 'calculator' };
    const runId = await replayAt('act', { runId: 'p' }, { 'step:1-0': recorded(step, 42) });
    await store.once(runId, 'plan:1', PlanDecisionSchema, decisionOf(1, ['calculator', 'calculator']));
    expect(await loop.act({ runId, iteration: 1, stepId: '1-0' }, ctx, neverRuns)).toEqual(recorded(step, 42));
    // A step the recording does not hold is refused, never run.
    const missing = await loop.act({ runId, iteration: 1, stepId: '1-1' }, ctx, neverRuns);
    expect(missing.observation).toMatchObject({ ok: false, error: { code: 'not_recorded' } });
    expect(neverRuns.runs).toBe(0);
    expect((await store.get(runId))?.usage.toolCalls).toBe(2);
  });

  it('with a live model: a call matching the recording gets its result, another runs live or is refused', async () => {
    const { loop } = recordingLoop(store);
    const parentDecision = decisionOf(1, ['calculator']);
    parentDecision.toolCalls[0] = {
      ...(parentDecision.toolCalls[0] as PlanDecision['toolCalls'][0]),
      arguments: '{"a":1,"b":2}',
    };
    const ledger = {
      'plan:1': parentDecision,
      'step:1-0': recorded({ stepId: '1-0', callId: 'c0', tool: 'calculator' }, 3),
    };
    const live = decisionOf(1, ['calculator', 'http_get']);
    live.toolCalls[0] = {
      ...(live.toolCalls[0] as PlanDecision['toolCalls'][0]),
      callId: 'live0',
      arguments: '{ "b": 2, "a": 1 }',
    };
    const runId = await replayAt('act', { runId: 'p', liveModel: true }, ledger);
    await store.once(runId, 'plan:1', PlanDecisionSchema, live);
    const runsLive: ActStage & { runs: number } = {
      runs: 0,
      spanAttributes: () => ({}),
      execute: async (view) => {
        runsLive.runs++;
        return { result: recorded(view.call, 'live') };
      },
    };
    const matched = await loop.act({ runId, iteration: 1, stepId: '1-0' }, ctx, runsLive);
    expect(matched).toMatchObject({ stepId: '1-0', callId: 'live0', observation: { ok: true, data: 3 } });
    expect(runsLive.runs).toBe(0);
    expect((await loop.act({ runId, iteration: 1, stepId: '1-1' }, ctx, runsLive)).observation).toEqual({
      ok: true,
      data: 'live',
    });
    expect(runsLive.runs).toBe(1);

    const strict = await replayAt('act', { runId: 'p', liveModel: true, toolsLive: false }, ledger);
    await store.once(strict, 'plan:1', PlanDecisionSchema, live);
    const refused = await loop.act({ runId: strict, iteration: 1, stepId: '1-1' }, ctx, runsLive);
    expect(refused.observation).toMatchObject({ ok: false, error: { code: 'not_recorded' } });
    expect(runsLive.runs).toBe(1);
  });

  it("gives the judge stage the recorded judge reply (none when the parent's judge asked no model)", async () => {
    const { loop } = recordingLoop(store);
    const review = { model: 'j', content: '{"verdict":"accept","critique":""}', inputTokens: 4, outputTokens: 1 };
    const runId = await replayAt('judge', { runId: 'p' }, { 'verdict:1': { ...SUCCEED, review } });
    await store.once(runId, 'plan:1', PlanDecisionSchema, decisionOf(1, [], 'It is 3.'));
    const { stage, seen } = judgeStage(SUCCEED);
    await loop.judge({ runId, iteration: 1, kind: 'answer' }, ctx, stage);
    expect(seen[0]?.replay).toEqual({ reply: { ...review, toolCalls: [], finishReason: 'stop' } });

    const noModel = await replayAt('judge', { runId: 'p' }, { 'verdict:1': CONTINUE });
    await store.once(noModel, 'plan:1', PlanDecisionSchema, decisionOf(1, [], 'x'));
    const other = judgeStage(CONTINUE);
    await loop.judge({ runId: noModel, iteration: 1, kind: 'answer' }, ctx, other.stage);
    expect(other.seen[0]?.replay).toEqual({ reply: null });
  });
});
