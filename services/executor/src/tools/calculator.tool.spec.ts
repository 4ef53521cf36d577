import { describe, expect, it } from '@jest/globals';
import { calculatorTool } from './calculator.tool.js';
import { testContext } from './testing/test-context.js';
import { ToolRegistry } from './tool-registry.js';
import { runTool } from './tool-runner.js';

describe('calculator tool', () => {
  const registry = new ToolRegistry([calculatorTool]);
  const ctx = testContext();

  const calc = (expression: unknown) =>
    runTool(registry, { tool: 'calculator', arguments: JSON.stringify({ expression }) }, ctx);

  it('returns the expression and its result', async () => {
    await expect(calc('231962 / 41.42')).resolves.toEqual({
      ok: true,
      data: { expression: '231962 / 41.42', result: 231962 / 41.42 },
    });
  });

  it('turns parse errors into a non-retryable tool_error with the position', async () => {
    await expect(calc('2 * (3 + ')).resolves.toEqual({
      ok: false,
      error: {
        code: 'tool_error',
        message:
          'Cannot evaluate expression: Expected a number, name or "(" but found end of expression at position 10',
        retryable: false,
      },
    });
  });

  it('turns division by zero into a tool_error', async () => {
    await expect(calc('1 / (2 - 2)')).resolves.toMatchObject({
      ok: false,
      error: { code: 'tool_error', message: expect.stringContaining('Division by zero') },
    });
  });

  it('rejects expressions longer than 500 characters and non-strings before evaluating', async () => {
    await expect(calc(`1${'+1'.repeat(250)}`)).resolves.toMatchObject({ error: { code: 'invalid_arguments' } });
    await expect(calc(42)).resolves.toMatchObject({ error: { code: 'invalid_arguments' } });
  });

  it('is a read-only tool', () => {
    expect(calculatorTool.risk).toBe('read');
  });
});
