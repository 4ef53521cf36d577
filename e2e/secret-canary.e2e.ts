// Secrets never reach traces, logs, run records, results or webhooks, whether content capture is on or off:
// a secret-marked tool argument (http_get's bearerToken) is used for the call and redacted everywhere else, and a
// provider error that echoes credentials (the configured API key, `Bearer …`, `sk-…`) is scrubbed before it is
// stored or sent. Spans are exported over OTLP/HTTP to a receiver inside the test.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Scenario } from '@triad/testing';
import { EffectServer } from './support/effect-server.js';
import { OtlpReceiver, type ReceivedSpan } from './support/otlp-receiver.js';
import { acceptedScript } from './support/scripts.js';
import { TriadHarness } from './support/triad-harness.js';

const TOKEN = 'tok-canary-3b9e51c7a2d84f60'; // the secret-marked argument
const API_KEY = 'sk-canary-key-5d1f0a9c7e3b4261'; // the configured provider key
const OTHER_KEY = 'sk-proj-elsewhere0123456789abcdef'; // an sk- key Triad was never given
const BEARER = 'opaque-bearer-77aa99cc11'; // whatever follows "Bearer "
const SECRETS = [TOKEN, API_KEY, OTHER_KEY, BEARER];

function scenario(effectsUrl: string, echoUrl: string): Scenario {
  return {
    scripts: [
      acceptedScript('echoed', [
        {
          content: 'Fetch it.',
          toolCalls: [{ id: 'e1', name: 'http_get', arguments: { url: `${echoUrl}/whoami`, bearerToken: TOKEN } }],
        },
        { content: 'Fetched.' },
      ]),
      acceptedScript('token', [
        {
          content: 'Fetch it.',
          toolCalls: [{ id: 't1', name: 'http_get', arguments: { url: `${effectsUrl}/data`, bearerToken: TOKEN } }],
        },
        { content: 'Fetched.' },
      ]),
      acceptedScript('echo', [
        {
          fault: {
            status: 401,
            message: `Incorrect API key provided: ${API_KEY}. Headers: Authorization: Bearer ${BEARER}; also ${OTHER_KEY}`,
          },
        },
      ]),
    ],
  };
}

const leaks = (text: string) => SECRETS.filter((s) => text.includes(s));

/** A remote that echoes the Authorization header it was sent, as a careless or hostile API might. */
async function startEchoServer(): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ youSent: req.headers.authorization ?? null }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe.each([
  ['off', 'false'],
  ['on', 'true'],
])('with content capture %s', (setting, traceContent) => {
  let otlp: OtlpReceiver;
  let effects: EffectServer;
  let triad: TriadHarness;
  let echo: { url: string; server: Server };

  beforeAll(async () => {
    otlp = await OtlpReceiver.start();
    effects = await EffectServer.start();
    echo = await startEchoServer();
    triad = await TriadHarness.start({
      scenario: scenario(effects.url, echo.url),
      executors: 1,
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_BSP_SCHEDULE_DELAY: '200',
        TRIAD_TRACE_CONTENT: traceContent,
        OPENAI_API_KEY: API_KEY,
        TRIAD_HTTP_ALLOW_HOSTS: '127.0.0.1',
        TRIAD_WEBHOOK_ALLOW_HOSTS: '127.0.0.1',
      },
    });
  });
  afterAll(async () => {
    await triad?.stop();
    await effects?.close();
    echo?.server.closeAllConnections();
    await new Promise((r) => echo?.server.close(r));
    await otlp?.close();
  });

  /** The spans of a run's trace, once as many spans of each name as given have arrived. */
  function traceOf(traceparent: string | undefined, counts: Record<string, number>): Promise<ReceivedSpan[]> {
    const traceId = traceparent?.split('-')[1];
    return triad.eventually(
      () => {
        const spans = otlp.spans.filter((s) => s.traceId === traceId);
        const arrived = Object.entries(counts).every(([n, c]) => spans.filter((s) => s.name === n).length >= c);
        return arrived && spans;
      },
      { what: `spans ${JSON.stringify(counts)} of trace ${traceId}` },
    );
  }

  it('uses a secret-marked argument for the call and redacts it from every span, event and log line', async () => {
    const runId = await triad.submit({ goal: 'goal:token', runId: `canary-token-${setting}` });
    const run = await triad.waitForRun(runId);
    expect(run.status).toBe('succeeded');
    expect(effects.requests.filter((r) => r.path === '/data').map((r) => r.authorization)).toEqual([`Bearer ${TOKEN}`]);

    const spans = await traceOf(run.traceparent, {
      'chat planner': 2,
      'execute_tool http_get': 1,
      'invoke_agent judge': 1,
    });
    const chats = spans.filter((s) => s.name === 'chat planner');
    const [tool] = spans.filter((s) => s.name === 'execute_tool http_get');
    if (traceContent === 'true') {
      // Content is captured, with the secret replaced.
      const output = chats.map((c) => String(c.attributes['gen_ai.output.messages'])).join('\n');
      expect(output).toContain('http_get');
      expect(output).toContain('[redacted]');
      expect(JSON.parse(String(tool.attributes['gen_ai.tool.call.arguments']))).toEqual({
        url: `${effects.url}/data`,
        bearerToken: '[redacted]',
      });
    } else {
      expect(chats.map((c) => c.attributes['gen_ai.output.messages'])).toEqual([undefined, undefined]);
      expect(tool.attributes['gen_ai.tool.call.arguments']).toBeUndefined();
    }
    expect(spans.filter((s) => leaks(s.raw).length).map((s) => s.name)).toEqual([]);
    expect(leaks(JSON.stringify(await triad.events(runId)))).toEqual([]);
    expect(leaks(triad.serviceLogs(1_000_000))).toEqual([]);
  });

  it('redacts a secret argument that a remote echoes back from the observation, its spans and logs', async () => {
    const runId = await triad.submit({ goal: 'goal:echoed', runId: `canary-echoed-${setting}` });
    const run = await triad.waitForRun(runId);
    expect(run.status).toBe('succeeded');
    const events = await triad.events(runId);
    const observed = events.find((e) => e.type === 'observation');
    expect(observed?.type === 'observation' && observed.observation).toMatchObject({
      ok: true,
      data: { status: 200, body: JSON.stringify({ youSent: 'Bearer [redacted]' }) },
    });
    expect(leaks(JSON.stringify(events))).toEqual([]);

    const spans = await traceOf(run.traceparent, { 'execute_tool http_get': 1, 'invoke_agent judge': 1 });
    expect(spans.filter((s) => leaks(s.raw).length).map((s) => s.name)).toEqual([]);
    expect(leaks(triad.serviceLogs(1_000_000))).toEqual([]);
  });

  it('scrubs credentials a provider error echoes from the run error, events, result, webhook, spans and logs', async () => {
    const runId = await triad.submit({
      goal: 'goal:echo',
      runId: `canary-echo-${setting}`,
      callbackUrl: `${effects.url}/hook`,
    });
    const run = await triad.waitForRun(runId);
    expect(run.status).toBe('failed');
    expect(run.error?.message).toMatch(/401/);
    expect(run.error?.message).toContain('[redacted]');
    expect(leaks(run.error?.message ?? '')).toEqual([]);

    const delivered = await triad.eventually(() => effects.requests.find((r) => r.path === '/hook'), {
      what: 'the result webhook',
    });
    expect(JSON.parse(delivered.body)).toMatchObject({ runId, status: 'failed' });
    expect(leaks(delivered.body)).toEqual([]);
    const result = await triad.runFinished(runId);
    expect(result.data).toMatchObject({ runId, status: 'failed' });
    expect(leaks(JSON.stringify(result.data))).toEqual([]);
    expect(leaks(JSON.stringify(await triad.events(runId)))).toEqual([]);

    const spans = await traceOf(run.traceparent, { 'chat planner': 1, 'plan planner': 1 });
    const [chat] = spans.filter((s) => s.name === 'chat planner');
    expect(chat.status).toBe(2); // ERROR, with its message scrubbed
    expect(spans.filter((s) => leaks(s.raw).length).map((s) => s.name)).toEqual([]);
    expect(leaks(triad.serviceLogs(1_000_000))).toEqual([]);
  });
});
