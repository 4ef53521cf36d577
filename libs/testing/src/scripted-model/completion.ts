import type { ChatBody } from './chat-request.js';
import { toolOutputs } from './chat-request.js';
import type { Turn } from './scenario.js';
import { renderTemplate, renderTemplateDeep } from './template.js';

/** Where a turn is played: names the ids of the completion and of its tool calls. */
export interface TurnContext {
  script: string;
  role: string;
  index: number;
}

export interface ChatCompletionBody {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: {
    index: number;
    message: {
      role: 'assistant';
      content: string | null;
      refusal: string | null;
      tool_calls?: { id: string; type: 'function'; function: { name: string; arguments: string } }[];
    };
    finish_reason: string;
    logprobs: null;
  }[];
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

/** Builds the OpenAI chat.completion body a turn stands for, with templates filled from the request's tool results. */
export function buildCompletion(turn: Turn, body: ChatBody, at: TurnContext): ChatCompletionBody {
  const outputs = toolOutputs(body);
  const content =
    turn.output !== undefined
      ? JSON.stringify(renderTemplateDeep(turn.output, outputs))
      : typeof turn.content === 'string'
        ? renderTemplate(turn.content, outputs)
        : null;
  const toolCalls = (turn.toolCalls ?? []).map((call, i) => ({
    id: call.id ?? `call_${idPart(at.script)}_${idPart(at.role)}_${at.index}_${i}`,
    type: 'function' as const,
    function: {
      name: call.name,
      arguments:
        typeof call.arguments === 'string'
          ? renderTemplate(call.arguments, outputs)
          : JSON.stringify(renderTemplateDeep(call.arguments, outputs)),
    },
  }));
  const replyChars =
    (content ?? turn.refusal ?? '').length +
    toolCalls.reduce((n, c) => n + c.function.name.length + c.function.arguments.length, 0);
  const prompt_tokens = turn.usage?.prompt_tokens ?? estimateTokens(JSON.stringify(body.messages).length);
  const completion_tokens = turn.usage?.completion_tokens ?? estimateTokens(replyChars);
  return {
    id: `chatcmpl-${idPart(at.script)}-${idPart(at.role)}-${at.index}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: body.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content,
          refusal: turn.refusal ?? null,
          ...(toolCalls.length ? { tool_calls: toolCalls } : {}),
        },
        finish_reason: turn.finishReason ?? (toolCalls.length ? 'tool_calls' : 'stop'),
        logprobs: null,
      },
    ],
    usage: { prompt_tokens, completion_tokens, total_tokens: prompt_tokens + completion_tokens },
  };
}

// Roughly four characters a token; never zero, so budget accounting downstream always sees some usage.
function estimateTokens(chars: number): number {
  return Math.max(1, Math.ceil(chars / 4));
}

// Tool call ids end up in Redis keys and job ids elsewhere, so they carry only [A-Za-z0-9_-].
function idPart(s: string): string {
  return s.replace(/[^A-Za-z0-9_-]/g, '-');
}
