import { z } from 'zod';

/** What became of a run's result webhook: recorded once per run (with its run event) so a redelivery posts nothing. */
export const WebhookOutcome = z.object({ delivered: z.boolean(), attempts: z.number().int().min(1) });
export type WebhookOutcome = z.infer<typeof WebhookOutcome>;

/**
 * Why a result webhook failed: `blocked_address` (the target is internal and not allow-listed, so it was never
 * dialled), `invalid_url`, `http_status` (the receiver answered something other than 2xx, a redirect included), or
 * `unreachable` (no answer: network, DNS or timeout).
 */
export const WebhookFailureCode = z.enum(['blocked_address', 'invalid_url', 'http_status', 'unreachable']);
export type WebhookFailureCode = z.infer<typeof WebhookFailureCode>;

/** The run's once-key under which the outcome is recorded (RunStore.once / getOnce). */
export const WEBHOOK_OUTCOME_KEY = 'webhook';
