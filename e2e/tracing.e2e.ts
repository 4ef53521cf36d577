// One OpenTelemetry trace per run across separate planner, executor and judge processes, exported over OTLP/HTTP
// to a receiver inside the test; GenAI attributes; a trace that survives a restart of every service while a run
// waits at an approval gate; and a canary secret that reaches no span and no log line.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ApprovalStore, Approvals } from '@triad/shared';
import type { Scenario } from '@triad/testing';
import { startServices } from '../cli/src/stack/service-processes.js';
import { EffectServer } from './support/effect-server.js';
import { OtlpReceiver, type ReceivedSpan } from './support/otlp-receiver.js';
import { ACCEPT, acceptedScript } from './support/scripts.js';
import { TriadHarness } from './support/triad-harness.js';

const CANARY = 'sk-canary-7f3a9c2e51d84b06';
const scenario: Scenario = {
  scripts: [
    acceptedScript(
      'two',
      [
        {
          content: 'Work it out.',
          toolCalls: [
            { id: 'c1', name: 'calculator', arguments: { expression: '6 * 7' } },
            // A tool argument carrying the secret: the tool refuses it, and the refusal quotes it back.
            { id: 'c2', name: 'calculator', arguments: { expression: `${CANARY} + 1` } },
            // A tool result carrying it: BullMQ would put the job's return value on its span.
            { id: 'c3', name: 'read_file', arguments: { path: 'secret.txt' } },
          ],
        },
        { content: 'It is {{tool:c1.data.result}}.' },
      ],
      [ACCEPT],
    ),
    acceptedScript(
      'gated',
      [
        {
          content: 'Notify.',
          toolCalls: [{ id: 'g1', name: 'post_webhook', arguments: { subject: 'traced', message: 'hello' } }],
        },
        { content: 'Sent.' },
      ],
      [ACCEPT],
    ),
  ],
};

let otlp: OtlpReceiver;
let effects: EffectServer;
let triad: TriadHarness;

beforeAll(async () => {
  otlp = await OtlpReceiver.start();
  effects = await EffectServer.start();
  const workspace = await mkdtemp(join(tmpdir(), 'triad-tracing-'));
  await writeFile(join(workspace, 'secret.txt'), `key=${CANARY}`);
  triad = await TriadHarness.start({
    scenario,
    executors: 1,
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '200',
      OPENAI_API_KEY: CANARY,
      TRIAD_WEBHOOK_URL: `${effects.url}/hook`,
      TRIAD_WORKSPACE: workspace,
    },
  });
});
afterAll(async () => {
  await triad?.stop();
  await effects?.close();
  await otlp?.close();
});

const traceIdOf = (traceparent: string | undefined) => traceparent?.split('-')[1];
const named = (spans: ReceivedSpan[], name: string) => spans.filter((s) => s.name === name);
const parentOf = (spans: ReceivedSpan[], span: ReceivedSpan) => spans.find((s) => s.spanId === span.parentSpanId);

/** Walks up from `span` and says whether `ancestor` is on the way. */
function descendsFrom(spans: ReceivedSpan[], span: ReceivedSpan, ancestor: ReceivedSpan): boolean {
  for (let p = parentOf(spans, span); p; p = parentOf(spans, p)) if (p.spanId === ancestor.spanId) return true;
  return false;
}

describe('tracing', () => {
  it('covers a two-iteration run with one trace across planner, executor and judge', async () => {
    const runId = await triad.submit({ goal: 'goal:two', runId: 'traced-two' });
    const run = await triad.waitForRun(runId);
    expect(run.status).toBe('succeeded');
    const traceId = traceIdOf(run.traceparent);
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);

    const expected: [string, number][] = [
      ['invoke_workflow triad', 1],
      ['plan planner', 2],
      ['chat planner', 2],
      ['execute_tool calculator', 2],
      ['invoke_agent judge', 2],
      ['chat judge', 1],
    ];
    // BullMQ's consumer spans end after the work they carry has moved on: wait for every parent too.
    const all = await otlp.waitFor((s) => {
      const trace = s.filter((x) => x.traceId === traceId);
      const complete = trace.every((x) => !x.parentSpanId || trace.some((p) => p.spanId === x.parentSpanId));
      return complete && expected.every(([name, n]) => trace.filter((x) => x.name === name).length >= n);
    });
    const spans = all.filter((s) => s.traceId === traceId);
    expect(new Set(spans.map((s) => s.service))).toEqual(new Set(['triad-planner', 'triad-executor', 'triad-judge']));
    // Nothing of this run went to another trace.
    expect(all.filter((s) => s.attributes['run.id'] === runId && s.traceId !== traceId)).toEqual([]);

    const [workflow] = named(spans, 'invoke_workflow triad');
    expect(workflow.attributes).toMatchObject({ 'gen_ai.operation.name': 'invoke_workflow', 'run.id': runId });
    const plans = named(spans, 'plan planner');
    expect(plans.map((p) => p.attributes['triad.iteration']).sort()).toEqual([1, 2]);
    for (const plan of plans) expect(descendsFrom(spans, plan, workflow)).toBe(true);

    const chats = named(spans, 'chat planner');
    expect(chats).toHaveLength(2);
    for (const chat of chats) {
      expect(parentOf(spans, chat)?.name).toBe('plan planner');
      expect(chat.attributes).toMatchObject({
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'planner',
        'gen_ai.response.finish_reasons': [expect.any(String)],
      });
      expect(chat.attributes['gen_ai.response.model']).toEqual(expect.any(String));
      expect(chat.attributes['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
      expect(chat.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
    }

    const tools = named(spans, 'execute_tool calculator');
    expect(tools.map((t) => t.attributes['gen_ai.tool.call.id']).sort()).toEqual(['c1', 'c2']);
    expect(named(spans, 'execute_tool read_file')).toHaveLength(1);
    const refused = tools.find((t) => t.attributes['gen_ai.tool.call.id'] === 'c2');
    expect(refused?.attributes).toMatchObject({ 'gen_ai.tool.name': 'calculator', 'triad.step.id': '1-1' });
    expect(refused?.attributes['error.type']).toEqual(expect.any(String));
    const plan1 = plans.find((p) => p.attributes['triad.iteration'] === 1) as ReceivedSpan;
    for (const t of tools) expect(descendsFrom(spans, t, plan1)).toBe(true);
    // The hop is visible: the tool span sits under BullMQ's consumer span of the act queue.
    expect(parentOf(spans, tools[0])?.name).toBe('process act');

    const judges = named(spans, 'invoke_agent judge');
    const verdicts = judges.flatMap((j) => j.events.filter((e) => e.name === 'gen_ai.evaluation.result'));
    expect(verdicts.map((v) => v.attributes['gen_ai.evaluation.score.label']).sort()).toEqual([
      'continue',
      'succeeded',
    ]);
    const answerJudge = judges.find((j) => j.attributes['triad.iteration'] === 2) as ReceivedSpan;
    expect(named(spans, 'chat judge').some((c) => parentOf(spans, c)?.spanId === answerJudge.spanId)).toBe(true);
  });

  it('keeps the secret out of every span and log line while content capture is off', async () => {
    await otlp.waitFor((s) => s.filter((x) => x.name === 'process act').length >= 3);
    await new Promise((r) => setTimeout(r, 500)); // the last batch
    // The secret did travel through the run: as an argument and in a tool's result.
    const recorded = JSON.stringify(await triad.events('traced-two'));
    expect(recorded.split(CANARY).length - 1).toBeGreaterThanOrEqual(2);
    expect(otlp.spans.filter((s) => s.raw.includes(CANARY)).map((s) => s.name)).toEqual([]);
    expect(otlp.spans.some((s) => 'gen_ai.input.messages' in s.attributes)).toBe(false);
    for (const service of triad.services) expect(service.output()).not.toContain(CANARY);
  });

  it('writes JSON log lines carrying the run id, trace id and span id of the work', async () => {
    const run = await triad.store.get('traced-two');
    const lines = triad.services
      .flatMap((s) => s.output().split('\n'))
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const ofRun = lines.filter((l) => l.runId === 'traced-two');
    expect([...new Set(ofRun.map((l) => l.msg))]).toEqual(
      expect.arrayContaining([
        'run traced-two accepted',
        'invoke_workflow triad done',
        'plan planner done',
        'execute_tool calculator done',
        'invoke_agent judge done',
      ]),
    );
    for (const line of ofRun) {
      expect(line.traceId).toBe(traceIdOf(run?.traceparent));
      expect(line.spanId).toMatch(/^[0-9a-f]{16}$/);
    }
    expect(lines.some((l) => typeof l.msg === 'string' && l.msg.startsWith('ready (prefix "'))).toBe(true);
  });

  it('continues the same trace after every service restarts while the run waits at an approval gate', async () => {
    const approvals = new Approvals(new ApprovalStore(triad.redis, triad.prefix), triad.queues.act);
    const runId = await triad.submit({ goal: 'goal:gated', runId: 'traced-gated' });
    let pending = await approvals.listPending({ runId });
    for (let i = 0; i < 200 && !pending.length; i++) {
      await new Promise((r) => setTimeout(r, 50));
      pending = await approvals.listPending({ runId });
    }
    expect(pending).toHaveLength(1);
    await Promise.all(triad.services.map((s) => s.stop()));
    triad.services = await startServices(triad.env, { executors: 1 });
    await approvals.approve(runId, pending[0].id, 'alice');
    const run = await triad.waitForRun(runId);
    expect(run.status).toBe('succeeded');
    const traceId = traceIdOf(run.traceparent);

    const atIteration2 = (s: ReceivedSpan[], name: string) =>
      s.some((x) => x.traceId === traceId && x.name === name && x.attributes['triad.iteration'] === 2);
    const spans = await otlp.waitFor((s) => atIteration2(s, 'invoke_agent judge') && atIteration2(s, 'plan planner'));
    const ofRun = spans.filter((s) => s.attributes['run.id'] === runId);
    expect(new Set(ofRun.map((s) => s.traceId))).toEqual(new Set([traceId]));
    // Parked before the restart, run after it: two execute_tool spans of the same step, both in the run's trace.
    const tool = named(ofRun, 'execute_tool post_webhook');
    expect(tool.map((t) => Boolean(t.attributes['triad.parked']))).toEqual(expect.arrayContaining([true, false]));
    expect(
      named(ofRun, 'plan planner')
        .map((p) => p.attributes['triad.iteration'])
        .sort(),
    ).toEqual([1, 2]);
  });
});
