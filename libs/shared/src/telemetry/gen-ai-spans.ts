import { type Span, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ChatReply, ChatRequest } from '../reasoning/chat.js';
import { triadTracer } from './run-trace.js';
import { telemetryState } from './telemetry-state.js';
import { triadMetrics } from './triad-metrics.js';

/**
 * A `chat {model}` span (OpenTelemetry GenAI conventions) around one model call, under the active span; tokens are
 * counted by role and model. Messages go into the span only when content capture is on.
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
    ...(content ? { 'gen_ai.input.messages': JSON.stringify(req.messages) } : {}),
  };
  return triadTracer().startActiveSpan(`chat ${req.model}`, { kind: SpanKind.CLIENT, attributes }, async (span) => {
    try {
      const reply = await call();
      recordReply(span, reply, content);
      triadMetrics.tokensUsed(req.model, reply.inputTokens, reply.outputTokens);
      return reply;
    } catch (err) {
      span.setAttribute('error.type', err instanceof Error ? err.name : 'Error');
      span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
      throw err;
    } finally {
      span.end();
    }
  });
}

function recordReply(span: Span, reply: ChatReply, content: boolean): void {
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
      JSON.stringify([{ content: reply.content, toolCalls: reply.toolCalls }]),
    );
  }
}
