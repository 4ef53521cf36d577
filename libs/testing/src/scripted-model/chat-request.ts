import { z } from 'zod';

// Only the fields the scripted server reads are checked; everything else in the body passes through untouched.
const Message = z.looseObject({
  role: z.string(),
  content: z.unknown().optional(),
  tool_call_id: z.unknown().optional(),
});

export const ChatBody = z.looseObject({
  model: z.string().min(1),
  messages: z.array(Message),
  stream: z.boolean().nullable().optional(),
  response_format: z.looseObject({ type: z.string() }).nullable().optional(),
});
export type ChatBody = z.infer<typeof ChatBody>;
export type ChatMessage = z.infer<typeof Message>;

/** The text of a message's content: a string as is, the text parts of a content array joined. */
export function messageText(message: ChatMessage): string {
  const { content } = message;
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part: unknown) =>
      part && typeof part === 'object' && typeof (part as { text?: unknown }).text === 'string'
        ? (part as { text: string }).text
        : '',
    )
    .join('');
}

/** The text of the first user message ('' when there is none). */
export function firstUserText(body: ChatBody): string {
  const first = body.messages.find((m) => m.role === 'user');
  return first ? messageText(first) : '';
}

/** The text of the request's last message ('' when there is none). */
export function lastMessageText(body: ChatBody): string {
  const last = body.messages.at(-1);
  return last ? messageText(last) : '';
}

/** How many assistant messages the conversation already holds. */
export function assistantCount(body: ChatBody): number {
  return body.messages.filter((m) => m.role === 'assistant').length;
}

/** Tool results of the request by tool_call_id (a later message with the same id wins). */
export function toolOutputs(body: ChatBody): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of body.messages) {
    if (m.role === 'tool' && typeof m.tool_call_id === 'string') out.set(m.tool_call_id, messageText(m));
  }
  return out;
}
