import { readFile } from 'node:fs/promises';
import { describe, expect, it } from '@jest/globals';
import { GoalRequest, goalRequestJsonSchema, MAX_GOAL_CHARS } from './goal-request.js';

describe('GoalRequest', () => {
  it('matches the published JSON Schema file (run `npm run schemas` after changing the contract)', async () => {
    const published = JSON.parse(
      await readFile(new URL('../../../schemas/goal-request.schema.json', import.meta.url), 'utf8'),
    );
    expect(published).toEqual(goalRequestJsonSchema());
  });

  it('fills in the budget defaults', () => {
    const r = GoalRequest.parse({ goal: 'x' });
    expect(r.budget).toEqual({
      maxIterations: 8,
      maxToolCalls: 50,
      maxTokens: 200_000,
      maxCostUsd: null,
      timeoutMs: 600_000,
    });
    expect(GoalRequest.parse({ goal: 'x', budget: { maxIterations: 2 } }).budget.maxToolCalls).toBe(50);
  });

  it('accepts an http(s) callbackUrl without credentials', () => {
    const url = 'https://hooks.example.com:8443/triad?k=v';
    expect(GoalRequest.parse({ goal: 'x', callbackUrl: url }).callbackUrl).toBe(url);
  });

  it.each([
    [{}, 'goal'],
    [{ goal: '' }, 'goal'],
    [{ goal: 'x'.repeat(MAX_GOAL_CHARS + 1) }, 'goal'],
    [{ goal: 42 }, 'goal'],
    [{ goal: 'x', runId: 'a:b' }, 'runId'],
    [{ goal: 'x', tools: 'calculator' }, 'tools'],
    [{ goal: 'x', budget: { maxIterations: 0 } }, 'budget.maxIterations'],
    [{ goal: 'x', budget: { maxIterationz: 3 } }, 'budget'],
    [{ goal: 'x', metadata: { a: 1 } }, 'metadata.a'],
    [{ goal: 'x', callbackUrl: 'ftp://example.com' }, 'callbackUrl'],
    [{ goal: 'x', callbackUrl: 'javascript:alert(1)' }, 'callbackUrl'],
    [{ goal: 'x', callbackUrl: 'file:///etc/passwd' }, 'callbackUrl'],
    [{ goal: 'x', callbackUrl: 'http://user:pass@hooks.example.com/x' }, 'callbackUrl'],
    [{ goal: 'x', callbackUrl: 'https://token@hooks.example.com/x' }, 'callbackUrl'],
    [{ goal: 'x', callbackUrl: 'https://:pass@hooks.example.com/x' }, 'callbackUrl'],
    [{ goal: 'x', extra: true }, '(root)'],
  ])('rejects %j at %s', (input, path) => {
    const res = GoalRequest.safeParse(input);
    expect(res.success).toBe(false);
    const paths = res.error?.issues.map((i) => i.path.join('.') || '(root)');
    expect(paths).toContain(path);
  });
});
