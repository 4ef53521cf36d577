import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { calculatorTool } from './calculator.tool.js';
import type { ToolContext } from './tool.js';
import { ToolRegistry } from './tool-registry.js';
import { runTool } from './tool-runner.js';
import { Workspace } from './workspace.js';

describe('calculator tool', () => {
  const registry = new ToolRegistry([calculatorTool]);
  let dir: string;
  let ctx: ToolContext;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'triad-calc-'));
    const workspace = await Workspace.open(dir);
    ctx = { signal: new AbortController().signal, idempotencyKey: 'k', runId: 'r', stepId: 's', workspace };
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

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
