import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { defineTool } from './tool.js';
import { ToolRegistry } from './tool-registry.js';

const tool = (name: string) =>
  defineTool({
    name,
    description: `the ${name} tool`,
    input: z.object({ x: z.string() }),
    output: z.string(),
    risk: 'read',
    run: async ({ x }) => x,
  });

describe('ToolRegistry', () => {
  it('refuses duplicate names at construction', () => {
    expect(() => new ToolRegistry([tool('a'), tool('b'), tool('a')])).toThrow('Duplicate tool name "a"');
  });

  it('looks tools up by name and lists them in registration order', () => {
    const [b, a] = [tool('b'), tool('a')];
    const registry = new ToolRegistry([b, a]);
    expect(registry.get('a')).toBe(a);
    expect(registry.get('missing')).toBeUndefined();
    expect(registry.list()).toEqual([b, a]);
    expect(registry.names()).toEqual(['b', 'a']);
  });

  it('gives specs for all tools or only the allow-listed ones', () => {
    const registry = new ToolRegistry([tool('a'), tool('b'), tool('c')]);
    expect(registry.specs().map((s) => s.name)).toEqual(['a', 'b', 'c']);
    expect(registry.specs(['c', 'a']).map((s) => s.name)).toEqual(['a', 'c']);
    expect(registry.specs([])).toEqual([]);
    expect(registry.specs()[0]).toMatchObject({ description: 'the a tool', risk: 'read' });
  });

  it('throws on allow-listed names it does not know', () => {
    const registry = new ToolRegistry([tool('a')]);
    expect(() => registry.specs(['a', 'nope'])).toThrow(/Unknown tools in allow-list: nope/);
  });

  it('hands out copies, so editing a spec does not leak into later calls', () => {
    const registry = new ToolRegistry([tool('a')]);
    registry.specs()[0].parameters.type = 'string';
    expect(registry.specs()[0].parameters.type).toBe('object');
  });
});
