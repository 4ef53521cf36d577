import { guardedRequest, type HttpPolicy, SsrfGuard } from '@triad/shared';
import { z } from 'zod';
import { defineTool, type ToolDefinition } from './tool.js';

/**
 * The irreversible post_webhook tool: POSTs `{ subject, message, runId, stepId }` as JSON to the operator's URL,
 * with the step's Idempotency-Key so the receiver can drop a repeat. That URL's host is allowed even when
 * internal (the operator chose it); redirects are not followed, since re-posting elsewhere was never approved.
 * Throws when the URL is not an http(s) URL without credentials.
 */
export function postWebhookTool(url: string, policy: HttpPolicy): ToolDefinition {
  const target = URL.parse(url);
  if (!target || (target.protocol !== 'http:' && target.protocol !== 'https:') || target.username || target.password) {
    throw new Error('The webhook URL must be an http or https URL without credentials');
  }
  const guard = new SsrfGuard([...policy.allowHosts, target.hostname]);

  return defineTool({
    name: 'post_webhook',
    description:
      'Send a notification to the operator-configured webhook (e.g. a chat channel or ticket system). It cannot ' +
      'be undone, so it may wait for human approval. Use it once, when the goal asks to notify or report.',
    input: z.object({
      subject: z.string().min(1).max(200).describe('A one-line subject (at most 200 characters)'),
      message: z.string().min(1).max(16_000).describe('The message text (at most 16000 characters)'),
    }),
    output: z.object({ status: z.number().int(), delivered: z.boolean() }),
    risk: 'irreversible',
    timeoutMs: policy.timeoutMs + 1_000,
    async run({ subject, message }, ctx) {
      const body = Buffer.from(JSON.stringify({ subject, message, runId: ctx.runId, stepId: ctx.stepId }), 'utf8');
      const headers = {
        'content-type': 'application/json',
        'idempotency-key': ctx.idempotencyKey,
        'user-agent': 'triad-executor',
      };
      const init = { method: 'POST' as const, url, headers, body, maxRedirects: 0, readBody: false };
      const res = await guardedRequest(guard, policy, init, ctx.signal);
      return { status: res.status, delivered: res.status >= 200 && res.status < 300 };
    },
  });
}
