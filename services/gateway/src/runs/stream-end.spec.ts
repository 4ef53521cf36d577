import { describe, expect, it } from '@jest/globals';
import type { RunRecord } from '@triad/shared';
import { streamComplete, webhookWaitMs } from './stream-end.js';

const run = (status: RunRecord['status'], callbackUrl?: string) =>
  ({ status, finishedAt: 1_000, updatedAt: 1_000, request: { callbackUrl } }) as unknown as RunRecord;
const WAIT = 60_000;

describe('when an event stream is complete', () => {
  it.each([
    ['no run (yet)', null, false, 2_000, false],
    ['a running run', run('running', 'https://x.example/h'), false, 2_000, false],
    ['an ended run with no webhook due', run('succeeded'), false, 2_000, true],
    ['an ended run whose webhook is pending', run('failed', 'https://x.example/h'), false, 2_000, false],
    ['an ended run whose webhook outcome is recorded', run('cancelled', 'https://x.example/h'), true, 2_000, true],
    ['an ended run whose webhook is overdue', run('succeeded', 'https://x.example/h'), false, 1_000 + WAIT, true],
  ])('%s', (_, r, outcome, now, complete) => {
    expect(streamComplete(r, outcome, WAIT, now)).toBe(complete);
  });

  it('waits for every attempt and backoff of the webhook, 15 minutes at most', () => {
    expect(webhookWaitMs({ attempts: 1, backoffMs: 1_000, timeoutMs: 10_000 } as never)).toBe(15_000);
    expect(webhookWaitMs({ attempts: 8, backoffMs: 1_000, timeoutMs: 10_000 } as never)).toBe(80_000 + 127_000 + 5_000);
    expect(webhookWaitMs({ attempts: 20, backoffMs: 1_000, timeoutMs: 10_000 } as never)).toBe(15 * 60_000);
  });
});
