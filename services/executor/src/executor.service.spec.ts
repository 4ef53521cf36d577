import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  ApprovalNotifier,
  ApprovalStore,
  Approvals,
  Embedder,
  GoalRequest,
  type GoalRequestInput,
  loadConfig,
  PlanDecision,
  RedisSemanticMemory,
  RunStore,
  StepResult,
  ToolCatalog,
  type TriadConfig,
} from '@triad/shared';
import { deleteKeys, Parked, RecordingStageContext, recordingLoop, specPrefix } from '@triad/testing';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { ApprovalGate } from './approval-gate.js';
import { CancelListener } from './cancel-listener.js';
import { ExecutorService } from './executor.service.js';
import { defineTool } from './tools/tool.js';
import { ToolRegistry } from './tools/tool-registry.js';
import { Workspace } from './tools/workspace.js';

// The executor's own stage with its real tool runner, approval gate and store (Lua on Redis). It runs through a
// RunLoop over recording queues, since what it decided is read back from the ledger and the run's usage; the
// stage context records where a gated step parked. The loop's protocol is in libs/shared/src/loop/run-loop.spec.ts.
const redis = new Redis(process.env.REDIS_URL || 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
const prefix = specPrefix('executor');
const store = new RunStore(redis, prefix);
const approvalStore = new ApprovalStore(redis, prefix);
const { loop } = recordingLoop(store);
const config: TriadConfig = { ...loadConfig({}), prefix, executorId: 'spec-executor' };
// The tools of this spec never reach the semantic memory (memorize and search_memory have their own spec).
const semanticMemory = new RedisSemanticMemory(redis, config, new Embedder(config));

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

const fetchy = defineTool({
  name: 'fetchy',
  description: 'echoes its token, as a careless remote might',
  input: z.object({ url: z.string(), token: z.string().meta({ secret: true }) }),
  output: z.object({ echoed: z.string() }),
  risk: 'read',
  run: async (args) => {
    ran.push(['fetchy', args]);
    return { echoed: `got ${args.token}` };
  },
});

let executor: ExecutorService;
beforeAll(async () => {
  const approvals = new Approvals(approvalStore, { wake: async () => {} });
  executor = new ExecutorService(
    store,
    new ToolCatalog(redis, prefix),
    new ToolRegistry([note, launch, fetchy]),
    await Workspace.open(await mkdtemp(join(tmpdir(), 'triad-executor-spec-'))),
    new ApprovalGate(approvalStore, approvals, new ApprovalNotifier(undefined, config.resultWebhooks), config),
    new CancelListener(redis, store),
    redis,
    config,
    semanticMemory,
  );
});
afterAll(async () => {
  await deleteKeys(redis, prefix);
  await redis.quit();
});

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
  await redis.hset(store.keys.run(runId), 'phase', 'act');
  return runId;
}

const act = (runId: string, stepId = '1-0', ctx = new RecordingStageContext()) =>
  loop.act({ runId, iteration: 1, stepId }, ctx, executor);

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
    const ctx = new RecordingStageContext();
    await expect(act(runId, '1-0', ctx)).rejects.toBeInstanceOf(Parked);
    const gate = await approvalStore.get(runId, '1-0');
    expect(gate).toMatchObject({ status: 'pending', tool: 'launch', risk: 'irreversible' });
    expect(ctx.parked.map((p) => p.untilMs)).toEqual([gate?.expiresAt]);
    expect(ran).toEqual([]);
    // Only checked while it waits: nothing reserved, nothing on record.
    expect((await store.get(runId))?.usage.toolCalls).toBe(0);
    expect(await store.getOnce(runId, 'step:1-0', StepResult)).toBeNull();
    await approvalStore.decide(runId, '1-0', { status: 'approved', by: 'a', editedArguments: '{"target":"mars"}' });
    expect(outcome(await act(runId))).toBe('ok');
    expect(ran).toEqual([['launch', { target: 'mars' }]]);
    expect((await store.get(runId))?.usage.toolCalls).toBe(1);
  });

  it.each([
    ['rejected', 'rejected'],
    ['expired', 'approval_expired'],
  ] as const)('turns a gate decided %s into a %s observation, not counted as a tool call', async (status, code) => {
    ran.length = 0;
    const runId = await plannedRun([['launch', '{"target":"moon"}']]);
    await expect(act(runId)).rejects.toBeInstanceOf(Parked);
    await approvalStore.decide(runId, '1-0', { status, by: 'a', reason: 'no' });
    expect(outcome(await act(runId))).toBe(code);
    expect(ran).toEqual([]);
    expect((await store.get(runId))?.usage.toolCalls).toBe(0);
  });

  it('gates a read tool when the goal adds its level', async () => {
    const runId = await plannedRun([['note', '{"text":"hi"}']], { goal: 'careful', requireApproval: ['read'] });
    await expect(act(runId)).rejects.toBeInstanceOf(Parked);
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

  it('refuses a tool the goal does not allow before anything else, reserving nothing', async () => {
    ran.length = 0;
    const runId = await plannedRun([['launch', '{"target":"moon"}']], { goal: 'narrow', tools: ['note'] });
    const result = await act(runId);
    expect(outcome(result)).toBe('tool_not_allowed');
    expect(result.observation.ok || result.observation.error.message).toContain('allowed tools: note');
    expect(ran).toEqual([]);
    expect(await approvalStore.get(runId, '1-0')).toBeNull();
    expect((await store.get(runId))?.usage.toolCalls).toBe(0);
  });

  it('never records a secret argument’s value, even when the tool echoes it', async () => {
    ran.length = 0;
    const secret = 'sk-executor-spec';
    const runId = await plannedRun([['fetchy', `{"url":"https://example.com","token":"${secret}"}`]]);
    const result = await act(runId);
    expect(outcome(result)).toBe('ok');
    expect(ran).toEqual([['fetchy', { url: 'https://example.com', token: secret }]]);
    expect(JSON.stringify(result)).not.toContain(secret);
    expect(JSON.stringify(await store.events(runId))).not.toContain(secret);
    expect(executor.spanAttributes({ stepId: '1-0', callId: 'c', tool: 'fetchy', arguments: '{}' })).toEqual({
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'fetchy',
      'gen_ai.tool.call.id': 'c',
    });
  });
});
