import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { MAX_OBSERVATION_BYTES } from './cap-observation.js';
import { testContext } from './testing/test-context.js';
import { defineTool, ToolFailure } from './tool.js';
import { ToolRegistry } from './tool-registry.js';
import { runTool } from './tool-runner.js';

// Rejects with the abort reason once the signal aborts; never settles otherwise.
const waitForAbort = (signal: AbortSignal) =>
  new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));

const tools = [
  defineTool({
    name: 'echo',
    description: 'echo',
    input: z.object({
      text: z.string().max(5),
      items: z.array(z.object({ n: z.number() })),
      note: z.string().nullable(),
    }),
    output: z.object({ text: z.string() }),
    risk: 'read',
    run: async ({ text }) => ({ text }),
  }),
  defineTool({
    name: 'waits',
    description: 'waits for its signal',
    input: z.object({}),
    output: z.null(),
    risk: 'read',
    timeoutMs: 50,
    run: async (_args, { signal }) => waitForAbort(signal),
  }),
  defineTool({
    name: 'hangs',
    description: 'ignores its signal',
    input: z.object({}),
    output: z.null(),
    risk: 'read',
    run: () => new Promise<null>(() => {}),
  }),
  defineTool({
    name: 'throws',
    description: 'fails',
    input: z.object({ kind: z.enum(['plain', 'failure', 'string']) }),
    output: z.null(),
    risk: 'read',
    run: async ({ kind }) => {
      if (kind === 'failure') throw new ToolFailure('busy, try later', { retryable: true });
      if (kind === 'string') throw 'a bare string';
      throw new TypeError('boom');
    },
  }),
  defineTool({
    name: 'lies',
    description: 'returns the wrong shape',
    input: z.object({}),
    output: z.object({ count: z.number() }),
    risk: 'read',
    run: async () => ({ count: 'three' }) as unknown as { count: number },
  }),
  defineTool({
    name: 'big',
    description: 'returns a lot of data',
    input: z.object({ chars: z.number() }),
    output: z.object({ blob: z.string() }),
    risk: 'read',
    run: async ({ chars }) => ({ blob: 'é'.repeat(chars) }),
  }),
];

describe('runTool', () => {
  const registry = new ToolRegistry(tools);
  const ctx = testContext();

  const run = (tool: string, args: string, context = ctx, opts = {}) =>
    runTool(registry, { tool, arguments: args }, context, opts);

  it('returns the validated output on success', async () => {
    await expect(run('echo', '{"text":"hi","items":[{"n":1}],"note":null}')).resolves.toEqual({
      ok: true,
      data: { text: 'hi' },
    });
  });

  it('reports an unknown tool and lists the available ones', async () => {
    const obs = await run('delete_everything', '{}');
    expect(obs).toMatchObject({ ok: false, error: { code: 'unknown_tool', retryable: false } });
    expect(!obs.ok && obs.error.message).toContain('Available tools: echo, waits, hangs, throws, lies, big');
  });

  it('reports arguments that are not JSON with the parse error', async () => {
    const obs = await run('echo', '{"text": "hi"');
    expect(obs).toMatchObject({ ok: false, error: { code: 'invalid_arguments' } });
    expect(!obs.ok && obs.error.message).toMatch(/not valid JSON: .+/);
  });

  it.each([
    ['[1,2]', 'an array'],
    ['"text"', 'a string'],
    ['null', 'null'],
    ['42', 'a number'],
  ])('reports non-object arguments %s', async (args, kind) => {
    const obs = await run('echo', args);
    expect(!obs.ok && obs.error).toMatchObject({ code: 'invalid_arguments', message: expect.stringContaining(kind) });
  });

  it('reports each schema issue with its path', async () => {
    const obs = await run('echo', '{"text":"too long","items":[{"n":1},{"n":"2"}]}');
    expect(obs).toMatchObject({ ok: false, error: { code: 'invalid_arguments', retryable: false } });
    const message = obs.ok ? '' : obs.error.message;
    expect(message).toMatch(/text: Too big/);
    expect(message).toMatch(/items\[1\]\.n: Invalid input: expected number/);
    expect(message).toMatch(/note: Invalid input/);
  });

  it('times out a tool that waits on its signal, as retryable', async () => {
    const obs = await run('waits', '{}');
    expect(obs).toEqual({
      ok: false,
      error: { code: 'timeout', message: expect.stringMatching(/50 ms/), retryable: true },
    });
  });

  it('times out a tool that ignores its signal, using the default timeout', async () => {
    const obs = await run('hangs', '{}', ctx, { defaultTimeoutMs: 30 });
    expect(obs).toMatchObject({ ok: false, error: { code: 'timeout', retryable: true } });
  });

  it('reports cancellation when the run signal aborts mid-call', async () => {
    const controller = new AbortController();
    const pending = run('hangs', '{}', { ...ctx, signal: controller.signal });
    setTimeout(() => controller.abort(), 10);
    await expect(pending).resolves.toMatchObject({ ok: false, error: { code: 'cancelled' } });
  });

  it('does not start a tool when the run is already cancelled', async () => {
    const controller = new AbortController();
    controller.abort();
    const obs = await run('echo', '{"text":"hi","items":[],"note":null}', { ...ctx, signal: controller.signal });
    expect(obs).toMatchObject({ ok: false, error: { code: 'cancelled' } });
  });

  it('turns thrown errors into tool_error with their message', async () => {
    await expect(run('throws', '{"kind":"plain"}')).resolves.toEqual({
      ok: false,
      error: { code: 'tool_error', message: 'Tool "throws" failed: boom', retryable: false },
    });
    await expect(run('throws', '{"kind":"string"}')).resolves.toMatchObject({
      error: { code: 'tool_error', message: expect.stringContaining('a bare string') },
    });
  });

  it('lets a ToolFailure choose its code and retryability', async () => {
    await expect(run('throws', '{"kind":"failure"}')).resolves.toEqual({
      ok: false,
      error: { code: 'tool_error', message: 'busy, try later', retryable: true },
    });
  });

  it('reports output that breaks the output schema', async () => {
    const obs = await run('lies', '{}');
    expect(obs).toMatchObject({ ok: false, error: { code: 'invalid_output' } });
    expect(!obs.ok && obs.error.message).toMatch(/count: Invalid input: expected number/);
  });

  it('truncates observations over 64 KB with a marker and a preview', async () => {
    const obs = await run('big', '{"chars":100000}');
    const serialized = Buffer.byteLength(JSON.stringify(obs), 'utf8');
    expect(serialized).toBeLessThanOrEqual(MAX_OBSERVATION_BYTES);
    expect(serialized).toBeGreaterThan(MAX_OBSERVATION_BYTES - 100);
    expect(obs).toMatchObject({
      ok: true,
      data: {
        truncated: true,
        originalBytes: 200_011,
        preview: expect.stringMatching(/^\{"blob":"éé.*\[truncated\]$/),
      },
    });
  });

  it('leaves observations just under the cap untouched', async () => {
    const obs = await run('big', '{"chars":30000}');
    expect(obs).toEqual({ ok: true, data: { blob: 'é'.repeat(30000) } });
  });
});
