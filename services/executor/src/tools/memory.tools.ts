import { z } from 'zod';
import { MAX_MEMORY_KEY_CHARS, MAX_MEMORY_VALUE_BYTES, MAX_RECALLED_ENTRIES } from './memory/redis-tool-memory.js';
import { defineTool } from './tool.js';

const Scope = z
  .enum(['run', 'global'])
  .describe('"run": only this run sees it; "global": later runs of the same tenant see it too (lasting lessons)');
const Key = z.string().min(1).max(MAX_MEMORY_KEY_CHARS);

/** Stores a note under a key, for later in this run or for later runs. */
export const rememberTool = defineTool({
  name: 'remember',
  description:
    'Store a short note under a key, replacing any note already under it. Use scope "run" for facts you need ' +
    `later in this run, "global" for lessons future runs should know. Keys at most ${MAX_MEMORY_KEY_CHARS} ` +
    `characters, values at most ${MAX_MEMORY_VALUE_BYTES / 1024} KB.`,
  input: z.object({
    key: Key.describe(`A short name for the note, e.g. "porto.population" (at most ${MAX_MEMORY_KEY_CHARS} chars)`),
    // Characters never outnumber UTF-8 bytes; the memory checks the byte size itself.
    value: z
      .string()
      .max(MAX_MEMORY_VALUE_BYTES)
      .describe(`The note (at most ${MAX_MEMORY_VALUE_BYTES / 1024} KB)`),
    scope: Scope,
  }),
  output: z.object({ key: z.string(), scope: Scope, stored: z.literal(true) }),
  risk: 'write',
  async run({ key, value, scope }, { memory }) {
    await memory.remember(scope, key, value);
    return { key, scope, stored: true as const };
  },
});

/** Reads back one note, or the newest notes of a scope. */
export const recallTool = defineTool({
  name: 'recall',
  description:
    'Read notes stored with remember: the note under key, or with key null the newest notes of the scope ' +
    `(at most ${MAX_RECALLED_ENTRIES}). An empty list means nothing is stored there.`,
  input: z.object({
    key: Key.nullable().describe('The key to read, or null for the newest notes of the scope'),
    scope: Scope,
  }),
  output: z.object({
    scope: Scope,
    entries: z.array(z.object({ key: z.string(), value: z.string(), savedAt: z.string() })),
  }),
  risk: 'read',
  async run({ key, scope }, { memory }) {
    const entries = (await memory.recall(scope, key)).slice(0, MAX_RECALLED_ENTRIES);
    // ISO time rather than epoch milliseconds: the model reads it reliably.
    return {
      scope,
      entries: entries.map((e) => ({ key: e.key, value: e.value, savedAt: new Date(e.at).toISOString() })),
    };
  },
});
