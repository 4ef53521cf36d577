import { z } from 'zod';

/** What became of a run's result webhook: recorded once per run (with its run event) so a redelivery posts nothing. */
export const WebhookOutcome = z.object({ delivered: z.boolean(), attempts: z.number().int().min(1) });
export type WebhookOutcome = z.infer<typeof WebhookOutcome>;

/** The run's once-key under which the outcome is recorded (RunStore.once / getOnce). */
export const WEBHOOK_OUTCOME_KEY = 'webhook';
