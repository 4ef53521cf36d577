import OpenAI from 'openai';
import type { TriadConfig } from '../config/triad-config.js';
import { BadModelReplyError, ModelCallError, ModelRateLimitedError, ModelRefusalError } from '../errors/triad-error.js';
import { traceChat } from '../telemetry/gen-ai-spans.js';
import type { ChatReply, ChatRequest, ReasoningModel } from './chat.js';

/** ReasoningModel over any OpenAI-compatible Chat Completions server. */
export class OpenAIReasoningModel implements ReasoningModel {
  private readonly client: OpenAI;

  constructor(config: TriadConfig['model']) {
    this.client = openAIClient(config);
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
          ...(req.maxOutputTokens ? { max_completion_tokens: req.maxOutputTokens } : {}),
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
    if (choice.message.refusal) throw new ModelRefusalError(choice.message.refusal);
    const toolCalls = (choice.message.tool_calls ?? []).flatMap((c) =>
      c.type === 'function' ? [{ id: c.id, name: c.function.name, arguments: c.function.arguments }] : [],
    );
    return {
      model: completion.model || req.model,
      content: choice.message.content ?? null,
      toolCalls,
      finishReason: choice.finish_reason ?? 'unknown',
      inputTokens: completion.usage?.prompt_tokens ?? 0,
      outputTokens: completion.usage?.completion_tokens ?? 0,
    };
  }
}

/** The `openai` client of the configured model server (base URL, key, timeout, retries), for chat and embeddings. */
export function openAIClient(config: TriadConfig['model']): OpenAI {
  return new OpenAI({
    // Local OpenAI-compatible servers ignore the key, but the client refuses to start without one.
    apiKey: config.apiKey ?? 'not-needed',
    baseURL: config.baseUrl,
    timeout: config.timeoutMs,
    maxRetries: config.maxRetries,
    fetch: fetchLeaving429ToTheQueue,
  });
}

/**
 * The client's own retries cover 5xx and timeouts, but not a 429: a 429 must slow every replica, which the processor
 * does through its queue's rate limit. `x-should-retry: false` is how the openai client is told not to retry.
 */
const fetchLeaving429ToTheQueue: typeof fetch = async (input, init) => {
  const res = await fetch(input, init);
  if (res.status !== 429) return res;
  const headers = new Headers(res.headers);
  headers.set('x-should-retry', 'false');
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
};

/** Retry-After (seconds or an HTTP date) or retry-after-ms, in ms; 1 s when the server gave none. */
function retryAfterMs(headers: Headers | undefined): number {
  const ms = Number(headers?.get('retry-after-ms'));
  if (ms > 0) return ms;
  const value = headers?.get('retry-after');
  const seconds = Number(value);
  if (value && Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = value ? Date.parse(value) - Date.now() : Number.NaN;
  return Number.isFinite(date) && date > 0 ? date : 1_000;
}

/** A failed call of the `openai` client as a Triad error: rate limited, retryable or not, or a bad reply. */
export function toModelError(err: unknown): Error {
  if (err instanceof OpenAI.APIUserAbortError) return err;
  if (err instanceof OpenAI.RateLimitError) {
    const wait = retryAfterMs(err.headers);
    return new ModelRateLimitedError(`model rate limited (HTTP 429), retry after ${wait} ms: ${err.message}`, wait, {
      cause: err,
    });
  }
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
