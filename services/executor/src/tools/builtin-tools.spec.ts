import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { builtinTools } from './builtin-tools.js';
import type { ToolContext } from './tool.js';
import { ToolRegistry } from './tool-registry.js';
import { runTool } from './tool-runner.js';
import { Workspace } from './workspace.js';

const EXAMPLE_WORKSPACE = fileURLToPath(new URL('../../../../examples/workspace', import.meta.url));

describe('builtinTools', () => {
  it('offers calculator, list_files and read_file, all read-only, with strict specs', () => {
    const registry = new ToolRegistry(builtinTools());
    expect(registry.names()).toEqual(['calculator', 'list_files', 'read_file']);
    for (const spec of registry.specs()) {
      expect(spec.risk).toBe('read');
      expect(spec.parameters).toMatchObject({ type: 'object', additionalProperties: false });
      expect(spec.parameters.required).toEqual(Object.keys(spec.parameters.properties as object));
    }
  });

  it('answers the demo question on the shipped example workspace', async () => {
    const registry = new ToolRegistry(builtinTools());
    const workspace = await Workspace.open(EXAMPLE_WORKSPACE);
    const ctx: ToolContext = {
      signal: new AbortController().signal,
      idempotencyKey: 'k',
      runId: 'r',
      stepId: 's',
      workspace,
    };
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
