import { describe, expect, it } from '@jest/globals';
import { type SelfCheckReview, selfCheckTool } from './self-check.tool.js';
import { testContext } from './testing/test-context.js';
import { ToolRegistry } from './tool-registry.js';
import { runTool } from './tool-runner.js';

describe('self_check tool', () => {
  const check = (review: SelfCheckReview, draft: string, signal = new AbortController().signal) =>
    runTool(
      new ToolRegistry([selfCheckTool(review)]),
      { tool: 'self_check', arguments: JSON.stringify({ draft }) },
      testContext({ goal: 'Which city is densest?', signal }),
    );

  it("reviews the draft against the run's goal and returns the verdict", async () => {
    const seen: string[][] = [];
    const review: SelfCheckReview = async (goal, draft) => {
      seen.push([goal, draft]);
      return { verdict: 'revise', critique: 'No figures given.' };
    };
    await expect(check(review, 'Porto.')).resolves.toEqual({
      ok: true,
      data: { verdict: 'revise', critique: 'No figures given.' },
    });
    expect(seen).toEqual([['Which city is densest?', 'Porto.']]);
  });

  it('turns a failing reviewer into a retryable tool error', async () => {
    const review: SelfCheckReview = async () => {
      throw new Error('model unavailable');
    };
    await expect(check(review, 'Porto.')).resolves.toEqual({
      ok: false,
      error: { code: 'tool_error', message: 'The review could not be made: model unavailable', retryable: true },
    });
  });

  it('hands the reviewer the signal, so cancelling the run stops the review', async () => {
    const controller = new AbortController();
    let reviewSignal: AbortSignal | undefined;
    const review: SelfCheckReview = (_goal, _draft, signal) => {
      reviewSignal = signal;
      return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
    };
    const pending = check(review, 'Porto.', controller.signal);
    setTimeout(() => controller.abort(), 20);
    await expect(pending).resolves.toMatchObject({ ok: false, error: { code: 'cancelled' } });
    expect(reviewSignal?.aborted).toBe(true);
  });

  it('is a read tool whose description asks for use before answering', () => {
    const tool = selfCheckTool(async () => ({ verdict: 'accept', critique: '' }));
    expect(tool.risk).toBe('read');
    expect(tool.description).toMatch(/^Before proposing your final answer/);
  });
});
