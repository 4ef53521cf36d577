import OpenAI from 'openai';
import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import type { TriadConfig } from '../config/triad-config.js';
import { BadModelReplyError, ModelCallError } from '../errors/triad-error.js';
import { traceChat } from '../telemetry/gen-ai-spans.js';

export type ChatMessage = ChatCompletionMessageParam;
export type ChatTool = ChatCompletionTool;

export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  tools?: ChatTool[];
  /** Ask for a JSON object matching this schema (OpenAI structured outputs). */
  jsonSchema?: { name: string; schema: Record<string, unknown> };
  signal?: AbortSignal;
}

export interface ChatReply {
  model: string;
  content: string | null;
  toolCalls: { id: string; name: string; arguments: string }[];
  finishReason: string;
  inputTokens: number;
  outputTokens: number;
}

/** The one thing Triad needs from a model: a chat turn with tools. */
export interface ReasoningModel {
  chat(request: ChatRequest): Promise<ChatReply>;
}

/** ReasoningModel over any OpenAI-compatible Chat Completions server. */
export class OpenAIReasoningModel implements ReasoningModel {
  private readonly client: OpenAI;

  constructor(config: TriadConfig['model']) {
    this.client = new OpenAI({
      // Local OpenAI-compatible servers ignore the key, but the client refuses to start without one.
      apiKey: config.apiKey ?? 'not-needed',
      baseURL: config.baseUrl,
      timeout: config.timeoutMs,
      maxRetries: config.maxRetries,
    });
  }

  /** One chat turn, traced as a `chat {model}` span under the caller's span. */
  chat(req: ChatRequest): Promise<ChatReply> {
    return traceChat('openai', req, () => this.complete(req));
  }

  private async complete(req: ChatRequest): Promise<ChatReply> {
    let completion: OpenAI.Chat.Completions.ChatCompletion;
    try {
      completion = await this.client.chat.completions.create(
        {
          model: req.model,
          messages: req.messages,
          ...(req.tools?.length ? { tools: req.tools, parallel_tool_calls: true } : {}),
          ...(req.jsonSchema
            ? { response_format: { type: 'json_schema', json_schema: { ...req.jsonSchema, strict: true } } }
            : {}),
        },
        { signal: req.signal },
      );
    } catch (err) {
      throw toModelError(err);
    }
    const choice = completion.choices?.[0];
    if (!choice?.message) throw new BadModelReplyError(`model ${req.model} returned no choices`);
    const toolCalls = (choice.message.tool_calls ?? []).flatMap((c) =>
      c.type === 'function' ? [{ id: c.id, name: c.function.name, arguments: c.function.arguments }] : [],
    );
    return {
      model: completion.model || req.model,
      content: choice.message.content ?? choice.message.refusal ?? null,
      toolCalls,
      finishReason: choice.finish_reason ?? 'unknown',
      inputTokens: completion.usage?.prompt_tokens ?? 0,
      outputTokens: completion.usage?.completion_tokens ?? 0,
    };
  }
}

function toModelError(err: unknown): Error {
  if (err instanceof OpenAI.APIUserAbortError) return err;
  if (err instanceof OpenAI.APIError) {
    const status = err.status;
    // The client has already retried 408/409/429/5xx; the job's own retries may still help with those.
    const retryable = status === undefined || status === 408 || status === 409 || status === 429 || status >= 500;
    return new ModelCallError(`model call failed${status ? ` (HTTP ${status})` : ''}: ${err.message}`, retryable, {
      cause: err,
    });
  }
  if (err instanceof SyntaxError) return new BadModelReplyError(`model reply is not valid JSON: ${err.message}`);
  return new ModelCallError(`model call failed: ${String(err)}`, true, { cause: err });
}
