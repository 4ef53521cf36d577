import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { luaCommand, type ScriptName } from './lua-scripts.js';

// Each script's header documents its KEYS; the loader takes the key count from there, so a header that forgot a key
// would shift every argument by one. Checked against what the body uses and what the stores pass.
const redis = new Redis(process.env.REDIS_URL || 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
afterAll(() => redis.quit());

const dir = new URL('./lua/', import.meta.url);
/** Every script file; lib.lua and *-lib.lua hold helpers included by the others, not scripts of their own. */
const scripts = readdirSync(dir)
  .filter((f) => f.endsWith('.lua') && !f.endsWith('lib.lua'))
  .map((f) => f.replace(/\.lua$/, '') as ScriptName);

/**
 * How many keys each store passes before the arguments (run-store.ts, approval-store.ts, results-queues.ts,
 * memory/memory-store.ts).
 */
const KEYS_PASSED: Record<ScriptName, number> = {
  'create-run': 2,
  finish: 2,
  retire: 6,
  once: 3,
  advance: 3,
  admit: 2,
  'request-approval': 4,
  'decide-approval': 2,
  remember: 1,
  'reserve-spend': 3,
  'settle-spend': 3,
  'slot-take': 3,
  'slot-release': 2,
  unqueue: 2,
  'goal-taken': 1,
  seed: 3,
  'forget-results-queue': 1,
  'memory-add': 4,
  'memory-delete': 3,
  'memory-delete-run': 4,
  'memory-sweep': 3,
  'memory-refresh': 3,
  'memory-changes': 1,
};

const keyIndexes = (text: string) => [...text.matchAll(/KEYS\[(\d+)\]/g)].map((m) => Number(m[1]));
const registered = (name: ScriptName) =>
  (redis as unknown as { scriptsSet: Record<string, { numberOfKeys: number; lua: string }> }).scriptsSet[
    `triad_${name.replace(/-/g, '_')}`
  ];

describe('Lua scripts', () => {
  it('are every one known to the stores', () => {
    expect([...scripts].sort()).toEqual(Object.keys(KEYS_PASSED).sort());
  });

  it.each(scripts)('%s: its header documents every key its body uses, and the loader counts them', async (name) => {
    const text = readFileSync(new URL(`${name}.lua`, dir), 'utf8');
    const lines = text.split('\n');
    const header = lines.filter((l) => l.startsWith('--')).join('\n');
    const body = lines.filter((l) => !l.startsWith('--')).join('\n');
    const documented = keyIndexes(header);
    expect(Math.min(...documented)).toBe(1);
    expect(new Set(documented).size).toBe(Math.max(...documented)); // KEYS[1] to KEYS[n], none skipped
    expect(Math.max(...keyIndexes(body))).toBe(Math.max(...documented));
    luaCommand(redis, name);
    const script = registered(name);
    expect(script?.numberOfKeys).toBe(KEYS_PASSED[name]);
    expect(script?.numberOfKeys).toBe(Math.max(...documented));
  });

  it.each(scripts)('%s: loads into Redis with its includes resolved', async (name) => {
    luaCommand(redis, name);
    const script = registered(name);
    expect(script?.lua).not.toMatch(/^-- @include /m);
    expect(await redis.script('LOAD', script?.lua ?? '')).toMatch(/^[0-9a-f]{40}$/);
  });
});
