import { z } from 'zod';
import { RunId, TenantId } from './run-id.js';

/** Long-term semantic memory: facts and lessons a tenant's runs share, found by meaning. */

export const MAX_MEMORY_TEXT_CHARS = 2_000;
export const MAX_MEMORY_TAGS = 10;
export const MAX_MEMORY_SEARCH_K = 50;
export const DEFAULT_MEMORY_SEARCH_K = 5;

export const MemoryKind = z
  .enum(['fact', 'lesson'])
  .describe('`fact`: something true about the world or the tenant; `lesson`: what a past run learned');
export type MemoryKind = z.infer<typeof MemoryKind>;

export const MemoryTag = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .regex(/^[^\s,]+$/, 'a tag has no spaces or commas');

/** A memory id: assigned by the store, unique within the tenant. */
export const MemoryId = z
  .string()
  .regex(/^m[0-9]{1,15}$/, 'a memory id looks like m123')
  .describe('The memory id, unique within its tenant');
export type MemoryId = z.infer<typeof MemoryId>;

/** Who wrote an entry: the judge distilling a run, the `memorize` tool, or a caller of the API. */
export const MemoryOrigin = z.enum(['judge', 'tool', 'api']);
export type MemoryOrigin = z.infer<typeof MemoryOrigin>;

export const MemorySource = z.strictObject({
  origin: MemoryOrigin,
  runId: RunId.nullable().describe('The run it came from (null when written through the API)'),
  stepId: z.string().max(200).nullable().describe('The step that wrote it (the `memorize` call), if any'),
});
export type MemorySource = z.infer<typeof MemorySource>;

/** One stored memory, as the API, the tools and the events show it. */
export const MemoryEntry = z.strictObject({
  id: MemoryId,
  tenant: TenantId,
  kind: MemoryKind,
  text: z.string(),
  tags: z.array(z.string()),
  source: MemorySource,
  untrusted: z
    .boolean()
    .describe(
      'True when the text may come from a tool output (or a model that read one): shown to models as quoted data, never as instructions',
    ),
  createdAt: z.number().int(),
  expiresAt: z.number().int().describe('When retention removes it (epoch ms)'),
});
export type MemoryEntry = z.infer<typeof MemoryEntry>;

/** What a caller writes (POST /v1/memories); the tenant comes from the key. */
export const MemoryWrite = z.strictObject({
  text: z.string().trim().min(1).max(MAX_MEMORY_TEXT_CHARS),
  kind: MemoryKind.default('fact'),
  tags: z.array(MemoryTag).max(MAX_MEMORY_TAGS).default([]),
  ttlMs: z
    .number()
    .int()
    .min(60_000)
    .optional()
    .describe("Keep it this long at most (default and upper bound: the server's TRIAD_MEMORY_RETENTION)"),
});
export type MemoryWrite = z.infer<typeof MemoryWrite>;
export type MemoryWriteInput = z.input<typeof MemoryWrite>;

/** A search by meaning within the caller's tenant. */
export const MemorySearch = z.strictObject({
  query: z.string().trim().min(1).max(MAX_MEMORY_TEXT_CHARS),
  k: z.number().int().min(1).max(MAX_MEMORY_SEARCH_K).default(DEFAULT_MEMORY_SEARCH_K),
  kind: MemoryKind.optional(),
  tags: z.array(MemoryTag).max(MAX_MEMORY_TAGS).optional().describe('Only entries carrying every one of these tags'),
  minScore: z.number().min(-1).max(1).optional().describe('Only matches at least this similar (cosine, -1..1)'),
});
export type MemorySearch = z.infer<typeof MemorySearch>;
export type MemorySearchInput = z.input<typeof MemorySearch>;

export const MemoryMatch = z.strictObject({
  entry: MemoryEntry,
  score: z.number().describe('Cosine similarity to the query, -1..1 (higher is closer)'),
});
export type MemoryMatch = z.infer<typeof MemoryMatch>;

/** What a goal lets the memory do for its run (GoalRequest.memory); a tenant's setting can only turn them off. */
export const GoalMemory = z.strictObject({
  recall: z
    .boolean()
    .default(true)
    .describe("Give the planner's first request the tenant's lessons closest to the goal"),
  learn: z.boolean().default(true).describe('Let the judge distil lessons from this run when it ends'),
});
export type GoalMemory = z.infer<typeof GoalMemory>;

/** A lesson given to a run's planner, as its `memory.recalled` event records it. */
export const RecalledLesson = z.strictObject({
  id: MemoryId,
  text: z.string(),
  score: z.number(),
  untrusted: z.boolean(),
  sourceRunId: RunId.nullable(),
});
export type RecalledLesson = z.infer<typeof RecalledLesson>;
