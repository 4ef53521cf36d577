import { type Attributes, type Span, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ChatMessage, ChatReply, ChatRequest } from '../reasoning/chat.js';
import { redactArguments } from '../runs/redact-arguments.js';
import { triadTracer } from './run-trace.js';
import { telemetryState } from './telemetry-state.js';
import { triadMetrics } from './triad-metrics.js';

/**
 * A `chat {model}` span (OpenTelemetry GenAI conventions) around one model call, under the active span; tokens are
 * counted by role and model. Messages go into the span only when content capture is on, and then with the secret
 * arguments of every tool call (`req.secretArguments`) redacted.
 */
export async function traceChat(
  provider: string,
  req: ChatRequest,
  call: () => Promise<ChatReply>,
): Promise<ChatReply> {
  const content = telemetryState().traceContent;
  const attributes = {
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': provider,
    'gen_ai.request.model': req.model,
    'triad.role': telemetryState().role,
    ...(content ? { 'gen_ai.input.messages': JSON.stringify(redactMessages(req)) } : {}),
  };
  return clientSpan(`chat ${req.model}`, attributes, async (span) => {
    const reply = await call();
    recordReply(span, reply, content && redactReply(req, reply));
    triadMetrics.tokensUsed(req.model, reply.inputTokens, reply.outputTokens);
    return reply;
  });
}

// The same arguments redacted as in run events: what the model asked a tool to use as a secret stays out of traces.
const redactCall = (req: ChatRequest, tool: string, args: string) =>
  redactArguments(args, req.secretArguments?.[tool] ?? []);

function redactMessages(req: ChatRequest): ChatMessage[] {
  return req.messages.map((m) =>
    m.role === 'assistant' && m.tool_calls
      ? {
          ...m,
          tool_calls: m.tool_calls.map((c) =>
            c.type === 'function'
              ? { ...c, function: { ...c.function, arguments: redactCall(req, c.function.name, c.function.arguments) } }
              : c,
          ),
        }
      : m,
  );
}

function redactReply(req: ChatRequest, reply: ChatReply): ChatReply {
  return {
    ...reply,
    toolCalls: reply.toolCalls.map((c) => ({ ...c, arguments: redactCall(req, c.name, c.arguments) })),
  };
}

/** Usage and finish reason always; the messages only when `content` is the (redacted) reply to record. */
function recordReply(span: Span, reply: ChatReply, content: ChatReply | false): void {
  span.setAttributes({
    'gen_ai.response.model': reply.model,
    'gen_ai.response.finish_reasons': [reply.finishReason],
    'gen_ai.usage.input_tokens': reply.inputTokens,
    'gen_ai.usage.output_tokens': reply.outputTokens,
    'triad.tool_calls': reply.toolCalls.length,
  });
  if (content) {
    span.setAttribute(
      'gen_ai.output.messages',
      JSON.stringify([{ content: content.content, toolCalls: content.toolCalls }]),
    );
  }
}

/**
 * An `embeddings {model}` span (OpenTelemetry GenAI conventions) around one embeddings request, under the active
 * span: how many texts, the tokens used. The texts themselves never go into the span.
 */
export async function traceEmbeddings<T extends { tokens: number }>(
  provider: string,
  model: string,
  texts: number,
  call: () => Promise<T>,
): Promise<T> {
  const attributes = {
    'gen_ai.operation.name': 'embeddings',
    'gen_ai.provider.name': provider,
    'gen_ai.request.model': model,
    'triad.role': telemetryState().role,
    'triad.embedding.inputs': texts,
  };
  return clientSpan(`embeddings ${model}`, attributes, async (span) => {
    const reply = await call();
    span.setAttribute('gen_ai.usage.input_tokens', reply.tokens);
    return reply;
  });
}

/** A client span under the active span around `fn`: an error marks it (error.type, status) and is rethrown. */
function clientSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T>): Promise<T> {
  return triadTracer().startActiveSpan(name, { kind: SpanKind.CLIENT, attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      span.setAttribute('error.type', err instanceof Error ? err.name : 'Error');
      span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
      throw err;
    } finally {
      span.end();
    }
  });
}
