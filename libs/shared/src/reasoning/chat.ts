import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';

export type ChatMessage = ChatCompletionMessageParam;
export type ChatTool = ChatCompletionTool;

export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  tools?: ChatTool[];
  /** Ask for a JSON object matching this schema (OpenAI structured outputs). */
  jsonSchema?: { name: string; schema: Record<string, unknown> };
  /** Secret argument names per tool name: they are redacted from the call's span, whatever the content setting. */
  secretArguments?: Readonly<Record<string, readonly string[]>>;
  /** The most output tokens the reply may have (max_completion_tokens); none by default. */
  maxOutputTokens?: number;
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
