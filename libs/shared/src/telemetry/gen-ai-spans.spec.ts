import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { registerCredentials } from '../errors/scrub-credentials.js';
import type { ChatRequest } from '../reasoning/chat.js';
import { ContentGuardProcessor } from './content-guard.processor.js';
import { traceChat, traceEmbeddings } from './gen-ai-spans.js';
import { setTelemetryState } from './telemetry-state.js';

const TOKEN = 'tok-spec-5c0ffee0';
const KEY = 'key-spec-registered-77';
const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({
  spanProcessors: [new ContentGuardProcessor(true), new SimpleSpanProcessor({ exporter })],
});

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
  setTelemetryState({ traceContent: true });
  registerCredentials(KEY);
});
afterAll(async () => {
  setTelemetryState({ traceContent: false });
  await provider.shutdown();
  context.disable();
  trace.disable();
});

const args = JSON.stringify({ url: 'https://api.example.com', bearerToken: TOKEN });
const request: ChatRequest = {
  model: 'm',
  messages: [
    { role: 'user', content: 'go' },
    { role: 'assistant', tool_calls: [{ id: 'a', type: 'function', function: { name: 'http_get', arguments: args } }] },
  ],
  secretArguments: { http_get: ['bearerToken'] },
};

describe('chat spans with content capture on', () => {
  it('record messages and tool calls with secret arguments redacted, in and out', async () => {
    exporter.reset();
    const reply = { model: 'm', content: null, finishReason: 'tool_calls', inputTokens: 1, outputTokens: 1 };
    const got = await traceChat('openai', request, async () => ({
      ...reply,
      toolCalls: [{ id: 'b', name: 'http_get', arguments: args }],
    }));
    expect(got.toolCalls[0].arguments).toBe(args); // the caller still gets the real arguments
    const [span] = exporter.getFinishedSpans();
    const input = String(span.attributes['gen_ai.input.messages']);
    const output = String(span.attributes['gen_ai.output.messages']);
    for (const text of [input, output]) {
      expect(text).not.toContain(TOKEN);
      expect(text).toContain('\\"bearerToken\\":\\"[redacted]\\"');
    }
  });

  it('scrub credentials from the status message, attributes and events of any span', async () => {
    exporter.reset();
    await expect(
      traceChat('openai', { model: 'm', messages: [] }, async () => {
        trace.getActiveSpan()?.addEvent('exception', { 'exception.message': `echo Bearer ${TOKEN}` });
        trace.getActiveSpan()?.setAttribute('http.response.body', `key ${KEY}, sk-abcdefgh12345678`);
        throw new Error(`401 Incorrect API key provided: ${KEY}`);
      }),
    ).rejects.toThrow(KEY);
    const [span] = exporter.getFinishedSpans();
    expect(span.status.message).toBe('401 Incorrect API key provided: [redacted]');
    expect(span.attributes['http.response.body']).toBe('key [redacted], [redacted]');
    expect(span.events[0].attributes).toEqual({ 'exception.message': 'echo Bearer [redacted]' });
  });
});

describe('embeddings spans', () => {
  it('record the model, how many texts and the tokens, never the texts, and a failure', async () => {
    exporter.reset();
    await traceEmbeddings('openai', 'emb', 3, async () => ({ tokens: 12, secret: 'the texts' }));
    await expect(
      traceEmbeddings('openai', 'emb', 1, async () => {
        throw new Error('broken reply');
      }),
    ).rejects.toThrow('broken reply');
    const [ok, failed] = exporter.getFinishedSpans();
    expect(ok.name).toBe('embeddings emb');
    expect(ok.attributes).toMatchObject({
      'gen_ai.operation.name': 'embeddings',
      'gen_ai.request.model': 'emb',
      'triad.embedding.inputs': 3,
      'gen_ai.usage.input_tokens': 12,
    });
    expect(JSON.stringify(ok.attributes)).not.toContain('the texts');
    expect(failed.status).toMatchObject({ code: 2, message: 'broken reply' });
  });
});
