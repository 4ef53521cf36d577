import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  ApprovalStore,
  Approvals,
  GoalRequest,
  type GoalRequestInput,
  loadConfig,
  PlanDecision,
  QUEUES,
  RunFinisher,
  RunStore,
  StepResult,
  ToolCatalog,
  type TriadConfig,
} from '@triad/shared';
import { deleteKeys, RecordingQueue, specPrefix } from '@triad/testing';
import { DelayedError, type Job, type Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { ApprovalGate } from './approval-gate.js';
import { CancelListener } from './cancel-listener.js';
import { ExecutorService } from './executor.service.js';
import { defineTool } from './tools/tool.js';
import { ToolRegistry } from './tools/tool-registry.js';
import { Workspace } from './tools/workspace.js';

// The executor's decisions with its real logic, tool runner, approval gate and store (Lua on Redis); the queues and
// the BullMQ job it is handed are fakes that record what they were asked.
const redis = new Redis(process.env.REDIS_URL || 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
const prefix = specPrefix('executor');
const store = new RunStore(redis, prefix);
const approvalStore = new ApprovalStore(redis, prefix);
const results = new RecordingQueue(QUEUES.results);
const config: TriadConfig = { ...loadConfig({}), prefix, executorId: 'spec-executor' };

/** Every run of a tool, by tool name, with the arguments it got. */
const ran: Array<[string, unknown]> = [];
const note = defineTool({
  name: 'note',
  description: 'echoes a text',
  input: z.object({ text: z.string().min(1) }),
  output: z.object({ echo: z.string() }),
  risk: 'read',
  run: async (args) => {
    ran.push(['note', args]);
    return { echo: args.text };
  },
});
const launch = defineTool({
  name: 'launch',
  description: 'an irreversible effect',
  input: z.object({ target: z.string() }),
  output: z.object({ launched: z.string() }),
  risk: 'irreversible',
  run: async (args) => {
    ran.push(['launch', args]);
    return { launched: args.target };
  },
});

let executor: ExecutorService;
beforeAll(async () => {
  const approvals = new Approvals(approvalStore, new RecordingQueue(QUEUES.act) as unknown as Queue);
  executor = new ExecutorService(
    store,
    new RunFinisher(store, results as unknown as Queue),
    new ToolCatalog(redis, prefix),
    new ToolRegistry([note, launch]),
    await Workspace.open(await mkdtemp(join(tmpdir(), 'triad-executor-spec-'))),
    new ApprovalGate(approvalStore, approvals, config),
    new CancelListener(redis, store),
    redis,
    config,
  );
});
afterAll(async () => {
  await deleteKeys(redis, prefix);
  await redis.quit();
});

/** A BullMQ job stand-in: the gate parks a step through moveToDelayed. */
function fakeJob() {
  const parked: Array<[number, string | undefined]> = [];
  const job = {
    moveToDelayed: async (ts: number, token?: string) => void parked.push([ts, token]),
  } as unknown as Job;
  return { job, parked };
}

let runs = 0;
/** A running run whose iteration 1 planned these calls (tool, raw arguments), as the planner records it. */
async function plannedRun(
  calls: Array<[string, string]>,
  goal: GoalRequestInput = { goal: 'do it' },
  createdAt?: number,
) {
  const runId = `x${++runs}`;
  await store.create(runId, GoalRequest.parse(goal), createdAt);
  const toolCalls = calls.map(([tool, args], i) => ({ stepId: `1-${i}`, callId: `c${i}`, tool, arguments: args }));
  const decision = { iteration: 1, model: 'm', thought: 't', toolCalls, answer: null, inputTokens: 0, outputTokens: 0 };
  await store.once(runId, 'plan:1', PlanDecision, decision);
  await store.transition(runId, { iteration: 1, phase: 'plan' }, { phase: 'act' });
  return runId;
}

const act = (runId: string, stepId = '1-0', job = fakeJob().job) =>
  executor.act(job, { runId, iteration: 1, stepId }, 'token-1', new AbortController().signal);

const outcome = (r: StepResult) => (r.observation.ok ? 'ok' : r.observation.error.code);

describe('ExecutorService decisions', () => {
  it.each([
    ['runs a known tool with valid arguments', 'note', '{"text":"hi"}', 'ok', 1],
    ['refuses an unknown tool', 'nope', '{}', 'unknown_tool', 0],
    ['refuses arguments that fail the schema', 'note', '{"text":""}', 'invalid_arguments', 0],
    ['refuses arguments that are not JSON', 'note', '{"text":', 'invalid_arguments', 0],
  ] as const)('%s', async (_case, tool, args, expected, runs) => {
    ran.length = 0;
    const runId = await plannedRun([[tool, args]]);
    const result = await act(runId);
    expect(outcome(result)).toBe(expected);
    expect(ran).toHaveLength(runs);
    // Every outcome is one observation event and counts as a tool call (the model asked for it).
    const events = (await store.events(runId)).filter((e) => e.type === 'observation');
    expect(events).toHaveLength(1);
    expect((await store.get(runId))?.usage.toolCalls).toBe(1);
  });

  it('returns the ledger’s result when a step is delivered again, without running the tool twice', async () => {
    ran.length = 0;
    const runId = await plannedRun([['note', '{"text":"once"}']]);
    const first = await act(runId);
    const again = await act(runId);
    expect(again).toEqual(first);
    expect(ran).toEqual([['note', { text: 'once' }]]);
    expect((await store.get(runId))?.usage.toolCalls).toBe(1);
  });

  it('parks a call the server policy gates, then runs the approver’s edited arguments', async () => {
    ran.length = 0;
    const runId = await plannedRun([['launch', '{"target":"moon"}']]);
    const { job, parked } = fakeJob();
    await expect(act(runId, '1-0', job)).rejects.toBeInstanceOf(DelayedError);
    const gate = await approvalStore.get(runId, '1-0');
    expect(gate).toMatchObject({ status: 'pending', tool: 'launch', risk: 'irreversible' });
    expect(parked).toEqual([[gate?.expiresAt, 'token-1']]);
    expect(ran).toEqual([]);
    await approvalStore.decide(runId, '1-0', { status: 'approved', by: 'a', editedArguments: '{"target":"mars"}' });
    expect(outcome(await act(runId))).toBe('ok');
    expect(ran).toEqual([['launch', { target: 'mars' }]]);
  });

  it.each([
    ['rejected', 'rejected'],
    ['expired', 'approval_expired'],
  ] as const)('turns a gate decided %s into a %s observation, not counted as a tool call', async (status, code) => {
    ran.length = 0;
    const runId = await plannedRun([['launch', '{"target":"moon"}']]);
    await expect(act(runId)).rejects.toBeInstanceOf(DelayedError);
    await approvalStore.decide(runId, '1-0', { status, by: 'a', reason: 'no' });
    expect(outcome(await act(runId))).toBe(code);
    expect(ran).toEqual([]);
    expect((await store.get(runId))?.usage.toolCalls).toBe(0);
  });

  it('gates a read tool when the goal adds its level', async () => {
    const runId = await plannedRun([['note', '{"text":"hi"}']], { goal: 'careful', requireApproval: ['read'] });
    await expect(act(runId)).rejects.toBeInstanceOf(DelayedError);
    expect(await approvalStore.get(runId, '1-0')).toMatchObject({ status: 'pending', risk: 'read' });
  });

  it('does not run a call of a run that has ended', async () => {
    ran.length = 0;
    const runId = await plannedRun([['note', '{"text":"hi"}']]);
    await store.finish(runId, { status: 'cancelled', iteration: 1, reason: 'stop' });
    expect(outcome(await act(runId))).toBe('cancelled');
    expect(ran).toEqual([]);
    expect((await store.get(runId))?.usage.toolCalls).toBe(0);
  });

  it('refuses a call once maxToolCalls is used up, leaving the run for the judge to end', async () => {
    ran.length = 0;
    const runId = await plannedRun(
      [
        ['note', '{"text":"first"}'],
        ['note', '{"text":"second"}'],
      ],
      { goal: 'frugal', budget: { maxToolCalls: 1 } },
    );
    expect(outcome(await act(runId, '1-0'))).toBe('ok');
    expect(outcome(await act(runId, '1-1'))).toBe('budget_exceeded');
    expect(ran).toEqual([['note', { text: 'first' }]]);
    expect(await store.get(runId)).toMatchObject({ status: 'running', usage: { toolCalls: 1 } });
  });

  it('ends the run as budget_exceeded when another limit is used up, with the refused call on record', async () => {
    ran.length = 0;
    const runId = await plannedRun(
      [['note', '{"text":"late"}']],
      { goal: 'slow', budget: { timeoutMs: 1_000 } },
      Date.now() - 5_000,
    );
    const result = await act(runId);
    expect(result.observation).toMatchObject({ ok: false, error: { code: 'budget_exceeded' } });
    expect(ran).toEqual([]);
    expect(await store.get(runId)).toMatchObject({ status: 'budget_exceeded', usage: { toolCalls: 0 } });
    const types = (await store.events(runId)).map((e) => e.type);
    expect(types.slice(-2)).toEqual(['observation', 'status.changed']);
  });
});
