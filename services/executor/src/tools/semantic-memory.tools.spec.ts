import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Embedder, loadConfig, RedisSemanticMemory, storeRunId } from '@triad/shared';
import { deleteKeys, type ScriptedModelServer, specPrefix, startScriptedModelServer } from '@triad/testing';
import { Redis } from 'ioredis';
import { TenantSemanticMemory } from './memory/tenant-semantic-memory.js';
import { memorizeTool, searchMemoryTool } from './semantic-memory.tools.js';
import { testContext } from './testing/test-context.js';
import type { ToolContext } from './tool.js';
import { ToolRegistry } from './tool-registry.js';
import { runTool } from './tool-runner.js';

// The real semantic memory (Redis, the openai client, the scripted model's embeddings over HTTP) behind the tools.
const redis = new Redis(process.env.REDIS_URL || 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
const prefix = specPrefix('semantic-tools');
let model: ScriptedModelServer;
let memory: RedisSemanticMemory;

beforeAll(async () => {
  model = await startScriptedModelServer({ scenario: { scripts: [] } });
  const config = loadConfig({
    TRIAD_PREFIX: prefix,
    OPENAI_BASE_URL: `${model.url}/v1`,
    OPENAI_API_KEY: 'spec-key',
    TRIAD_MODEL_MAX_RETRIES: '0',
  });
  memory = new RedisSemanticMemory(redis, config, new Embedder(config));
});
afterAll(async () => {
  await deleteKeys(redis, prefix);
  await redis.quit();
  await model.close();
});

const registry = new ToolRegistry([memorizeTool, searchMemoryTool]);
const call = (tool: string, args: object, ctx: ToolContext) =>
  runTool(registry, { tool, arguments: JSON.stringify(args) }, ctx);
/** The context of step `stepId` of run `runId` of `tenant`, as the executor builds it. */
const stepOf = (tenant: string, runId: string, stepId: string) =>
  testContext({
    runId: storeRunId(tenant, runId),
    stepId,
    semanticMemory: new TenantSemanticMemory(memory, storeRunId(tenant, runId)),
  });
const dataOf = <T>(obs: Awaited<ReturnType<typeof call>>): T => {
  if (!obs.ok) throw new Error(`${obs.error.code}: ${obs.error.message}`);
  return obs.data as T;
};

describe('memorize and search_memory', () => {
  it("store an untrusted entry with the run and step as source, in the run's tenant, and find it by meaning", async () => {
    const text = 'The shipping API rejects weights given in pounds; send kilograms.';
    const stored = dataOf<{ id: string; kind: string; duplicate: boolean }>(
      await call('memorize', { text, kind: 'lesson', tags: ['shipping'] }, stepOf('acme', 'run-a', '1-0')),
    );
    expect(stored).toEqual({ id: expect.stringMatching(/^m[0-9]+$/), kind: 'lesson', stored: true, duplicate: false });
    expect(await memory.get('acme', stored.id)).toMatchObject({
      tenant: 'acme',
      text,
      tags: ['shipping'],
      source: { origin: 'tool', runId: 'run-a', stepId: '1-0' },
      untrusted: true,
    });

    const search = { query: 'which unit for shipping weights', k: null, kind: null, tags: null };
    const found = dataOf<{ matches: { id: string; text: string; untrusted: boolean; score: number }[] }>(
      await call('search_memory', search, stepOf('acme', 'run-b', '1-0')),
    );
    expect(found.matches[0]).toMatchObject({ id: stored.id, text, untrusted: true, tags: ['shipping'] });
    // Another tenant's run, with the same arguments, never sees it.
    const theirs = dataOf<{ matches: unknown[] }>(
      await call('search_memory', search, stepOf('globex', 'run-c', '1-0')),
    );
    expect(theirs.matches).toEqual([]);
    // Filters: a kind or a tag the entry lacks leaves it out.
    const facts = dataOf<{ matches: { id: string }[] }>(
      await call('search_memory', { ...search, kind: 'fact' }, stepOf('acme', 'run-b', '1-1')),
    );
    expect(facts.matches.map((m) => m.id)).not.toContain(stored.id);
  });

  it('store once per step: a redelivered memorize step gets back the entry it stored, whatever it says now', async () => {
    const first = dataOf<{ id: string }>(
      await call(
        'memorize',
        { text: 'Retry the export after 02:00 UTC.', kind: 'fact', tags: [] },
        stepOf('acme', 'run-once', '2-0'),
      ),
    );
    const again = dataOf<{ id: string; duplicate: boolean }>(
      await call(
        'memorize',
        { text: 'A different text, as a model asked again might write.', kind: 'fact', tags: [] },
        stepOf('acme', 'run-once', '2-0'),
      ),
    );
    expect(again).toMatchObject({ id: first.id, duplicate: true });
    const page = await memory.list('acme', { sourceRunId: 'run-once', limit: 10 });
    expect(page.entries.map((e) => e.id)).toEqual([first.id]);
    // Another step of the same run stores its own.
    const other = dataOf<{ id: string }>(
      await call(
        'memorize',
        { text: 'Exports are gzip files.', kind: 'fact', tags: [] },
        stepOf('acme', 'run-once', '2-1'),
      ),
    );
    expect(other.id).not.toBe(first.id);
  });

  it('refuse bad arguments before anything is stored', async () => {
    const ctx = stepOf('acme', 'run-bad', '1-0');
    for (const args of [
      { text: '', kind: 'fact', tags: [] },
      { text: 'x', kind: 'opinion', tags: [] },
      { text: 'x', kind: 'fact', tags: ['has space'] },
      { text: 'x', kind: 'fact' },
    ]) {
      expect(await call('memorize', args, ctx)).toMatchObject({ ok: false, error: { code: 'invalid_arguments' } });
    }
    expect((await memory.list('acme', { sourceRunId: 'run-bad', limit: 10 })).entries).toEqual([]);
  });

  it('answer a retryable tool error, storing nothing, when the embeddings server is down', async () => {
    const down = loadConfig({
      TRIAD_PREFIX: prefix,
      OPENAI_BASE_URL: 'http://127.0.0.1:9/v1',
      OPENAI_API_KEY: 'spec-key',
      TRIAD_MODEL_MAX_RETRIES: '0',
    });
    const unreachable = new RedisSemanticMemory(redis, down, new Embedder(down));
    const ctx = testContext({
      runId: 'run-down',
      stepId: '1-0',
      semanticMemory: new TenantSemanticMemory(unreachable, 'run-down'),
    });
    const obs = await call('memorize', { text: 'never stored', kind: 'fact', tags: [] }, ctx);
    expect(obs).toMatchObject({ ok: false, error: { code: 'tool_error', retryable: true } });
    expect(!obs.ok && obs.error.message).toMatch(/cannot embed/);
    expect((await memory.list('default', { sourceRunId: 'run-down', limit: 10 })).entries).toEqual([]);
  });
});
