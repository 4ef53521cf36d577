import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { builtinTools } from './builtin-tools.js';
import { testContext } from './testing/test-context.js';
import { ToolRegistry } from './tool-registry.js';
import { runTool } from './tool-runner.js';
import { Workspace } from './workspace.js';

const EXAMPLE_WORKSPACE = fileURLToPath(new URL('../../../../examples/workspace', import.meta.url));
const http = { allowHosts: [], timeoutMs: 1_000, maxBytes: 1024 };

describe('builtinTools', () => {
  it('offers the core tools with their risks and strict specs', () => {
    const registry = new ToolRegistry(builtinTools({ http }));
    expect(registry.specs().map((s) => [s.name, s.risk])).toEqual([
      ['calculator', 'read'],
      ['list_files', 'read'],
      ['read_file', 'read'],
      ['write_file', 'write'],
      ['http_get', 'read'],
      ['http_post', 'write'],
      ['remember', 'write'],
      ['recall', 'read'],
      ['memorize', 'write'],
      ['search_memory', 'read'],
    ]);
    for (const spec of registry.specs()) {
      expect(spec.strict).toBe(true);
      expect(spec.parameters).toMatchObject({ type: 'object', additionalProperties: false });
      expect(spec.parameters.required).toEqual(Object.keys(spec.parameters.properties as object));
    }
  });

  it('adds post_webhook when a webhook URL is set and self_check when a reviewer is given', () => {
    const review = async () => ({ verdict: 'accept' as const, critique: '' });
    const all = new ToolRegistry(builtinTools({ http, webhookUrl: 'https://hooks.example.com/triad', review }));
    expect(all.names().slice(-2)).toEqual(['post_webhook', 'self_check']);
    expect(all.get('post_webhook')?.risk).toBe('irreversible');
    expect(new ToolRegistry(builtinTools({ http, review })).names()).not.toContain('post_webhook');
    expect(new ToolRegistry(builtinTools({ http, webhookUrl: 'https://hooks.example.com/x' })).names()).not.toContain(
      'self_check',
    );
  });

  it('answers the demo question on the shipped example workspace', async () => {
    const registry = new ToolRegistry(builtinTools({ http }));
    const ctx = testContext({ workspace: await Workspace.open(EXAMPLE_WORKSPACE) });
    const call = async (tool: string, args: object) => {
      const obs = await runTool(registry, { tool, arguments: JSON.stringify(args) }, ctx);
      if (!obs.ok) throw new Error(obs.error.message);
      return obs.data as Record<string, unknown>;
    };

    const listing = (await call('list_files', { path: 'cities' })) as { entries: { name: string }[] };
    expect(listing.entries.map((e) => e.name)).toEqual(['coimbra.json', 'lisbon.json', 'porto.json']);

    const files = await Promise.all(listing.entries.map((e) => call('read_file', { path: `cities/${e.name}` })));
    const cities = files.map(
      (f) => JSON.parse(f.content as string) as { city: string; population: number; area_km2: number },
    );
    for (const city of cities) {
      expect(city).toMatchObject({ country: 'Portugal', source: 'illustrative figures for the Triad demo' });
      expect(Number.isInteger(city.population)).toBe(true);
    }

    const densities = await Promise.all(
      cities.map((c) => call('calculator', { expression: `${c.population} / ${c.area_km2}` })),
    );
    const best = densities.reduce((a, b) => ((a.result as number) >= (b.result as number) ? a : b));
    const winner = cities[densities.indexOf(best)];
    expect(winner.city).toBe('Porto');
    expect(best.result).toBeCloseTo(5600.24, 2);
  });
});
