import { describe, expect, it } from '@jest/globals';
import { recallTool, rememberTool } from './memory.tools.js';
import { InMemoryToolMemory, testContext } from './testing/test-context.js';
import type { ToolContext } from './tool.js';
import { ToolRegistry } from './tool-registry.js';
import { runTool } from './tool-runner.js';

describe('remember and recall tools', () => {
  const registry = new ToolRegistry([rememberTool, recallTool]);
  const call = (tool: string, args: object, ctx: ToolContext) =>
    runTool(registry, { tool, arguments: JSON.stringify(args) }, ctx);

  it('stores a note and reads it back by key, with an ISO timestamp', async () => {
    const ctx = testContext();
    await expect(call('remember', { key: 'porto', value: 'densest', scope: 'run' }, ctx)).resolves.toEqual({
      ok: true,
      data: { key: 'porto', scope: 'run', stored: true },
    });
    const obs = await call('recall', { key: 'porto', scope: 'run' }, ctx);
    expect(obs).toEqual({
      ok: true,
      data: { scope: 'run', entries: [{ key: 'porto', value: 'densest', savedAt: expect.any(String) }] },
    });
    const savedAt = obs.ok ? (obs.data as { entries: { savedAt: string }[] }).entries[0].savedAt : '';
    expect(Math.abs(Date.parse(savedAt) - Date.now())).toBeLessThan(60_000);
  });

  it('keeps scopes apart and lists a scope newest first when key is null', async () => {
    const ctx = testContext({ memory: new InMemoryToolMemory() });
    await call('remember', { key: 'a', value: '1', scope: 'global' }, ctx);
    await call('remember', { key: 'b', value: '2', scope: 'global' }, ctx);
    await call('remember', { key: 'a', value: '3', scope: 'run' }, ctx);
    const global = await call('recall', { key: null, scope: 'global' }, ctx);
    expect(global.ok && (global.data as { entries: { key: string }[] }).entries.map((e) => e.key)).toEqual(['b', 'a']);
    await expect(call('recall', { key: 'b', scope: 'run' }, ctx)).resolves.toEqual({
      ok: true,
      data: { scope: 'run', entries: [] },
    });
  });

  it('rejects keys over 128 characters, empty keys, values over 8 KB and a missing key field', async () => {
    const ctx = testContext();
    const invalid = { ok: false, error: { code: 'invalid_arguments' } };
    await expect(call('remember', { key: 'k'.repeat(129), value: 'v', scope: 'run' }, ctx)).resolves.toMatchObject(
      invalid,
    );
    await expect(call('remember', { key: '', value: 'v', scope: 'run' }, ctx)).resolves.toMatchObject(invalid);
    await expect(call('remember', { key: 'k', value: 'v'.repeat(8193), scope: 'run' }, ctx)).resolves.toMatchObject(
      invalid,
    );
    await expect(call('recall', { scope: 'run' }, ctx)).resolves.toMatchObject(invalid);
    await expect(call('recall', { key: null, scope: 'team' }, ctx)).resolves.toMatchObject(invalid);
  });

  it('offers remember as a write tool and recall as a read tool with strict schemas', () => {
    expect(registry.specs().map((s) => [s.name, s.risk, s.parameters.required])).toEqual([
      ['remember', 'write', ['key', 'value', 'scope']],
      ['recall', 'read', ['key', 'scope']],
    ]);
  });
});
