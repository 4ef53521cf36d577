// One OpenTelemetry trace per run across separate planner, executor and judge processes, exported over OTLP/HTTP
// to a receiver inside the test; GenAI attributes; a trace that survives a restart of every service while a run
// waits at an approval gate; HTTP spans in and out; no span per Redis command; and a canary secret that reaches no
// span and no log line.
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { RunRecord } from '@triad/shared';
import type { Scenario } from '@triad/testing';
import { EffectServer } from './support/effect-server.js';
import { OtlpReceiver, type ReceivedSpan } from './support/otlp-receiver.js';
import { ACCEPT, acceptedScript, calc, postWebhook } from './support/scripts.js';
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
            calc('c1', '6 * 7'),
            // A tool argument carrying the secret: the tool refuses it, and the refusal quotes it back.
            calc('c2', `${CANARY} + 1`),
            // A tool result carrying it: BullMQ would put the job's return value on its span.
            { id: 'c3', name: 'read_file', arguments: { path: 'secret.txt' } },
          ],
        },
        { content: 'It is {{tool:c1.data.result}}.' },
      ],
      [ACCEPT, ACCEPT, ACCEPT], // one run in each of three tests, each judged once
    ),
    acceptedScript(
      'gated',
      [{ content: 'Notify.', toolCalls: [postWebhook('g1', 'traced', 'hello')] }, { content: 'Sent.' }],
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

/** The spans of one run of the 'two' script, by name: the two iterations, three tool calls, two judgements. */
const TWO_SPANS: Record<string, number> = {
  'invoke_workflow triad': 1,
  'plan planner': 2,
  'chat planner': 2,
  'process act': 3,
  'execute_tool calculator': 2,
  'execute_tool read_file': 1,
  'invoke_agent judge': 2,
  'chat judge': 1,
};

/**
 * Runs the 'two' script to its end and waits until every span of its trace has been exported: the expected spans
 * and the parent of each (BullMQ's consumer spans end after the work they carry has moved on).
 */
async function tracedTwo(runId: string): Promise<{ run: RunRecord; traceId: string; all: ReceivedSpan[] }> {
  const run = await triad.waitForRun(await triad.submit({ goal: 'goal:two', runId }));
  expect(run.status).toBe('succeeded');
  const traceId = traceIdOf(run.traceparent) as string;
  expect(traceId).toMatch(/^[0-9a-f]{32}$/);
  const all = await otlp.waitFor(
    (s) => {
      const trace = s.filter((x) => x.traceId === traceId);
      const complete = trace.every((x) => !x.parentSpanId || trace.some((p) => p.spanId === x.parentSpanId));
      return complete && Object.entries(TWO_SPANS).every(([name, n]) => named(trace, name).length >= n);
    },
    { what: `every span of run ${runId} (trace ${traceId})`, context: () => triad.serviceLogs() },
  );
  return { run, traceId, all: [...all] };
}

/** The services' JSON log lines so far. */
const logLines = () =>
  triad.services
    .flatMap((s) => s.output().split('\n'))
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/** What each service logs as it finishes its part of a 'two' run. */
const TWO_LOG_MESSAGES = (runId: string) => [
  `run ${runId} accepted`,
  'invoke_workflow triad done',
  'plan planner done',
  'execute_tool calculator done',
  'execute_tool read_file done',
  'invoke_agent judge done',
];

/** Waits until every service has logged its part of the run, and returns the run's log lines. */
function runLogLines(runId: string): Promise<Record<string, unknown>[]> {
  return triad.eventually(
    () => {
      const ofRun = logLines().filter((l) => l.runId === runId);
      const messages = new Set(ofRun.map((l) => l.msg));
      return TWO_LOG_MESSAGES(runId).every((m) => messages.has(m)) && ofRun;
    },
    { what: `the log lines of every part of run ${runId}` },
  );
}

describe('tracing', () => {
  it('covers a two-iteration run with one trace across planner, executor and judge', async () => {
    const runId = 'traced-two';
    const { traceId, all } = await tracedTwo(runId);
    const spans = all.filter((s) => s.traceId === traceId);
    const counts = Object.fromEntries(Object.keys(TWO_SPANS).map((name) => [name, named(spans, name).length]));
    expect(counts).toEqual(TWO_SPANS);
    expect(new Set(spans.map((s) => s.service))).toEqual(new Set(['triad-planner', 'triad-executor', 'triad-judge']));
    // Nothing of this run went to another trace.
    expect(all.filter((s) => s.attributes['run.id'] === runId && s.traceId !== traceId)).toEqual([]);
    // Stages, hops and model calls are traced; the Redis commands they make are not, one span each.
    expect(all.filter((s) => 'db.system' in s.attributes || 'db.system.name' in s.attributes)).toEqual([]);

    const [workflow] = named(spans, 'invoke_workflow triad');
    expect(workflow.attributes).toMatchObject({
      'gen_ai.operation.name': 'invoke_workflow',
      'run.id': runId,
      'triad.tenant': 'default',
    });
    const plans = named(spans, 'plan planner');
    expect(plans.map((p) => p.attributes['triad.iteration']).sort()).toEqual([1, 2]);
    for (const plan of plans) expect(descendsFrom(spans, plan, workflow)).toBe(true);

    const chats = named(spans, 'chat planner');
    expect(chats).toHaveLength(2);
    for (const chat of chats) {
      expect(parentOf(spans, chat)?.name).toBe('plan planner');
      // The scripted model answers under the model name it was asked for.
      expect(chat.attributes).toMatchObject({
        'run.id': runId,
        'triad.tenant': 'default',
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'planner',
        'gen_ai.response.model': 'planner',
      });
      expect(chat.attributes['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
      expect(chat.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
    }
    // Iteration 1 called tools, iteration 2 answered.
    const finishReasons = (iteration: number) =>
      chats.find((c) => parentOf(spans, c)?.attributes['triad.iteration'] === iteration)?.attributes[
        'gen_ai.response.finish_reasons'
      ];
    expect([finishReasons(1), finishReasons(2)]).toEqual([['tool_calls'], ['stop']]);

    const tools = named(spans, 'execute_tool calculator');
    expect(tools.map((t) => t.attributes['gen_ai.tool.call.id']).sort()).toEqual(['c1', 'c2']);
    expect(named(spans, 'execute_tool read_file')).toHaveLength(1);
    const refused = tools.find((t) => t.attributes['gen_ai.tool.call.id'] === 'c2');
    expect(refused?.attributes).toMatchObject({ 'gen_ai.tool.name': 'calculator', 'triad.step.id': '1-1' });
    // The calculator cannot evaluate a name: a tool error, the observation's code.
    expect(refused?.attributes['error.type']).toBe('tool_error');
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
    // Absence is checked once every span of the run has arrived and every service has logged its part of it.
    const runId = 'traced-secret';
    const { traceId, all } = await tracedTwo(runId);
    await runLogLines(runId);
    // The secret did travel through the run: as an argument and in a tool's result.
    const recorded = JSON.stringify(await triad.events(runId));
    expect(recorded.split(CANARY).length - 1).toBeGreaterThanOrEqual(2);
    const spans = all.filter((s) => s.traceId === traceId);
    expect(spans.filter((s) => s.raw.includes(CANARY)).map((s) => s.name)).toEqual([]);
    expect(spans.filter((s) => 'gen_ai.input.messages' in s.attributes).map((s) => s.name)).toEqual([]);
    for (const service of triad.services) expect(service.output()).not.toContain(CANARY);
  });

  it('writes JSON log lines carrying the run id, trace id and span id of the work', async () => {
    const runId = 'traced-logs';
    const run = await triad.waitForRun(await triad.submit({ goal: 'goal:two', runId }));
    const ofRun = await runLogLines(runId);
    for (const line of ofRun) {
      expect(line.traceId).toBe(traceIdOf(run.traceparent));
      expect(line.spanId).toMatch(/^[0-9a-f]{16}$/);
    }
    expect(logLines().filter((l) => typeof l.msg === 'string' && l.msg.startsWith('ready (prefix "'))).toHaveLength(
      triad.services.length,
    );
  });

  it('continues the same trace after every service restarts while the run waits at an approval gate', async () => {
    const runId = await triad.submit({ goal: 'goal:gated', runId: 'traced-gated' });
    const [gate] = await triad.pendingApprovals(runId);
    await triad.restartServices();
    await triad.approvals.approve(runId, gate.id, 'alice');
    const run = await triad.waitForRun(runId);
    expect(run.status).toBe('succeeded');
    const traceId = traceIdOf(run.traceparent);

    const atIteration2 = (s: ReceivedSpan[], name: string) =>
      s.some((x) => x.traceId === traceId && x.name === name && x.attributes['triad.iteration'] === 2);
    const sentBy = (s: ReceivedSpan[]) =>
      named(s, 'execute_tool post_webhook').find((t) => t.traceId === traceId && !t.attributes['triad.parked']);
    const spans = await otlp.waitFor(
      (s) =>
        atIteration2(s, 'invoke_agent judge') &&
        atIteration2(s, 'plan planner') &&
        s.some((x) => x.parentSpanId !== undefined && x.parentSpanId === sentBy(s)?.spanId),
      {
        what: `the iteration-2 spans of run ${runId} and its webhook's HTTP span`,
        context: () => triad.serviceLogs(),
      },
    );
    const ofRun = spans.filter((s) => s.attributes['run.id'] === runId);
    expect(new Set(ofRun.map((s) => s.traceId))).toEqual(new Set([traceId]));
    // Parked before the restart, run after it: two execute_tool spans of the same step, both in the run's trace.
    const tool = named(ofRun, 'execute_tool post_webhook');
    expect(tool.map((t) => Boolean(t.attributes['triad.parked']))).toEqual(expect.arrayContaining([true, false]));
    // The webhook itself: an outgoing HTTP span under the tool call that sent it.
    const outgoing = spans.filter((s) => s.parentSpanId === sentBy(spans)?.spanId);
    expect(outgoing.map((s) => s.name)).toEqual(['POST']);
    expect(outgoing[0].attributes).toMatchObject({ 'http.request.method': 'POST', 'http.response.status_code': 200 });
    expect(
      named(ofRun, 'plan planner')
        .map((p) => p.attributes['triad.iteration'])
        .sort(),
    ).toEqual([1, 2]);
  });

  it('records incoming HTTP spans at the gateway, under the caller’s trace', async () => {
    const gateway = await triad.spawn('gateway', 'gateway', { TRIAD_GATEWAY_PORT: '0' });
    try {
      const url = /ready \(prefix .*? on (http:\/\/[0-9.:]+)/.exec(gateway.output())?.[1];
      expect(url).toBeDefined();
      const traceId = randomBytes(16).toString('hex');
      const callerSpanId = randomBytes(8).toString('hex');
      const res = await fetch(`${url}/v1/runs/no-such-run`, {
        headers: { traceparent: `00-${traceId}-${callerSpanId}-01` },
      });
      expect(res.status).toBe(404);
      const spans = await otlp.waitFor((s) => s.some((x) => x.traceId === traceId && x.parentSpanId === callerSpanId), {
        what: `the gateway's span of a request in trace ${traceId}`,
        context: () => triad.serviceLogs(),
      });
      const server = spans.filter((s) => s.traceId === traceId && s.parentSpanId === callerSpanId);
      expect(
        server.map((s) => [s.service, s.attributes['http.request.method'], s.attributes['http.response.status_code']]),
      ).toEqual([['triad-gateway', 'GET', 404]]);
    } finally {
      await gateway.stop();
    }
  });
});
