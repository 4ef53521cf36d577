import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  clusteredVectors,
  deleteKeys,
  hashingEmbedding,
  type ScriptedModelServer,
  startScriptedModelServer,
} from '@triad/testing';
import { Redis } from 'ioredis';
import { loadConfig, type TriadConfig } from '../config/triad-config.js';
import { BadModelReplyError } from '../errors/triad-error.js';
import { Embedder } from './embedder.js';
import { RedisSemanticMemory, type RedisSemanticMemoryOptions } from './redis-semantic-memory.js';
import type { NewMemory } from './semantic-memory.js';

// Real Redis and the real `openai` client over HTTP against the scripted model's hashing embeddings: two instances
// stand for two replicas (or a process before and after a restart) sharing one Redis.
const redis = new Redis(process.env.REDIS_URL || 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
const prefix = `spec${randomBytes(4).toString('hex')}`;
let model: ScriptedModelServer;
let config: TriadConfig;
const quiet = { warn: () => {}, log: () => {} };
const memories: RedisSemanticMemory[] = [];

beforeAll(async () => {
  model = await startScriptedModelServer({ scenario: { scripts: [] } });
  config = {
    ...loadConfig({ TRIAD_PREFIX: prefix, OPENAI_BASE_URL: `${model.url}/v1`, TRIAD_EMBEDDING_MODEL: 'hashing' }),
    tenantLimits: { capped: { weight: 1, memory: { recall: true, learn: true, maxEntries: 20 } } },
  };
});

afterAll(async () => {
  await deleteKeys(redis, prefix);
  await redis.quit();
  await model.close();
});

/** A replica: its own SemanticMemory (own in-process indexes) over the shared Redis. */
function replica(
  opts: RedisSemanticMemoryOptions = {},
  over: Partial<TriadConfig['memory']> = {},
): RedisSemanticMemory {
  const c = { ...config, memory: { ...config.memory, ...over } };
  const m = new RedisSemanticMemory(redis, c, new Embedder(c), { logger: quiet, ...opts });
  memories.push(m);
  return m;
}

const fact = (tenant: string, text: string, more: Partial<NewMemory> = {}): NewMemory => ({
  tenant,
  text,
  kind: 'fact',
  tags: [],
  source: { origin: 'api', runId: null, stepId: null },
  untrusted: false,
  ...more,
});

const texts = (r: { matches: { entry: { text: string } }[] }) => r.matches.map((m) => m.entry.text);

describe('RedisSemanticMemory', () => {
  it('finds by meaning, closest first, and a second replica finds what the first just wrote', async () => {
    const a = replica();
    const b = replica();
    await a.writeMany([
      fact('alpha', 'The billing API wants dates formatted as YYYY-MM-DD'),
      fact('alpha', 'Paris is the capital of France'),
      fact('alpha', 'The deploy script needs the staging credentials'),
    ]);
    // b loaded the tenant before a's next write: it follows the change log.
    expect(texts(await b.search('alpha', { query: 'what date format does the billing API want', k: 1 }))).toEqual([
      'The billing API wants dates formatted as YYYY-MM-DD',
    ]);
    const { entry } = await a.write(fact('alpha', 'Tokyo has the largest metropolitan population'));
    const found = await b.search('alpha', { query: 'largest metropolitan population Tokyo', k: 2 });
    expect(found.matches[0]).toMatchObject({ entry: { id: entry.id, tenant: 'alpha' } });
    expect(found.matches[0].score).toBeGreaterThan(found.matches[1].score);
    expect(found.tokens).toBeGreaterThan(0);
    // A delete through b is gone from a at its next search.
    expect(await b.delete('alpha', entry.id)).toBe(true);
    expect(await b.delete('alpha', entry.id)).toBe(false);
    const after = await a.search('alpha', { query: 'largest metropolitan population Tokyo', k: 5 });
    expect(after.matches.map((m) => m.entry.id)).not.toContain(entry.id);
    expect(after.matches).toHaveLength(3);
  });

  it('stays consistent while one replica searches in parallel and another writes and deletes', async () => {
    const a = replica();
    const b = replica();
    await a.write(fact('busy', 'The first fact of a busy tenant'));
    const writes = Array.from({ length: 30 }, (_, i) =>
      b.write(fact('busy', `Busy fact ${i} ${randomBytes(6).toString('hex')}`)),
    );
    const searches = Array.from({ length: 30 }, () => a.search('busy', { query: 'busy fact', k: 50 }));
    const written = await Promise.all(writes);
    await Promise.all(searches);
    const gone = written.slice(0, 10).map((r) => r.entry.id);
    await Promise.all([...gone.map((id) => b.delete('busy', id)), a.search('busy', { query: 'busy', k: 5 })]);
    const found = await a.search('busy', { query: 'busy fact', k: 50 });
    expect(found.matches).toHaveLength(21);
    expect(found.matches.map((m) => m.entry.id)).not.toEqual(expect.arrayContaining([gone[0]]));
    expect(a.footprint().entries).toBe(21);
  });

  it('a new instance (a restarted process) finds every entry, with its provenance', async () => {
    const a = replica();
    const written = await a.write(
      fact('restart', 'The weather API rejects requests without a units parameter', {
        kind: 'lesson',
        tags: ['weather', 'api'],
        source: { origin: 'judge', runId: 'run-1', stepId: null },
        untrusted: true,
      }),
    );
    const fresh = replica();
    const { matches } = await fresh.search('restart', { query: 'weather API units parameter' });
    expect(matches.map((m) => m.entry)).toEqual([written.entry]);
    expect(await fresh.get('restart', written.entry.id)).toEqual(written.entry);
    expect(await fresh.get('restart', 'not-an-id')).toBeNull();
  });

  it('loads a large tenant whole, over several pages of ids and batches of entries', async () => {
    const entries = 10_050; // more than one page of ids (10 000) and many batches of entries (500)
    const gen = clusteredVectors({ dimensions: 256, seed: 3 });
    const a = replica();
    const now = Date.now();
    for (let i = 0; i < entries; i += 1_000) {
      await Promise.all(
        Array.from({ length: Math.min(1_000, entries - i) }, (_, j) =>
          a.store.add(
            'large',
            {
              ...fact('large', `Bulk ${i + j}`),
              kind: 'fact',
              tags: [],
              createdAt: now,
              expiresAt: now + 3_600_000,
              model: 'hashing',
              vector: gen.next(),
            },
            100_000,
          ),
        ),
      );
    }
    const fresh = replica();
    await fresh.warm('large');
    expect(fresh.footprint()).toMatchObject({ tenants: 1, entries });
  }, 120_000); // ten thousand writes, on a machine that may be busy

  it('keeps tenants apart', async () => {
    const a = replica();
    await a.writeMany([fact('tenant-one', 'A filler fact'), fact('tenant-one', 'Another filler fact')]);
    await a.write(fact('tenant-one', 'The secret launch code word is pineapple'));
    await a.write(fact('tenant-two', 'Bananas are yellow'));
    const other = await a.search('tenant-two', { query: 'secret launch code word pineapple', k: 10 });
    expect(texts(other)).toEqual(['Bananas are yellow']);
    const [id] = (await a.search('tenant-one', { query: 'pineapple' })).matches.map((m) => m.entry.id);
    expect(await a.get('tenant-two', id)).toBeNull();
    expect(await a.delete('tenant-two', id)).toBe(false);
    expect(await a.get('tenant-one', id)).not.toBeNull();
  });

  it('filters by kind and by every tag, and by minScore', async () => {
    const a = replica();
    await a.writeMany([
      fact('filters', 'Retry the payments API after a 409 conflict', { kind: 'lesson', tags: ['payments'] }),
      fact('filters', 'The payments API lives at payments.example.com', { tags: ['payments', 'hosts'] }),
      fact('filters', 'The payments API answers in euros', { tags: ['payments', 'money'] }),
    ]);
    const lessons = await a.search('filters', { query: 'payments API', kind: 'lesson', k: 10 });
    expect(texts(lessons)).toEqual(['Retry the payments API after a 409 conflict']);
    const tagged = await a.search('filters', { query: 'payments API', tags: ['payments', 'hosts'], k: 10 });
    expect(texts(tagged)).toEqual(['The payments API lives at payments.example.com']);
    const close = await a.search('filters', { query: 'The payments API answers in euros', minScore: 0.99, k: 10 });
    expect(texts(close)).toEqual(['The payments API answers in euros']);
    const none = await a.search('filters', { query: 'payments', tags: ['nope'], k: 10 });
    expect(none.matches).toEqual([]);
  });

  it('refreshes a near-duplicate of the same kind instead of adding it', async () => {
    const a = replica();
    const b = replica();
    const first = await a.write(fact('dupes', 'Dates go to the billing API as YYYY-MM-DD', { ttlMs: 3_600_000 }));
    const again = await b.write(fact('dupes', 'Dates go to the billing API as YYYY-MM-DD.'));
    expect(again.duplicate).toBe(true);
    expect(again.entry.id).toBe(first.entry.id);
    expect(again.entry.expiresAt).toBeGreaterThan(first.entry.expiresAt);
    expect(await redis.hget(b.store.keys.memoryEntry('dupes', first.entry.id), 'hits')).toBe('1');
    const lesson = await b.write(fact('dupes', 'Dates go to the billing API as YYYY-MM-DD', { kind: 'lesson' }));
    expect(lesson.duplicate).toBe(false);
    const different = await a.write(fact('dupes', 'The billing API needs an idempotency key on every POST'));
    expect(different.duplicate).toBe(false);
    // Within one batch too.
    const batch = await a.writeMany([fact('dupes', 'Use UTC everywhere'), fact('dupes', 'Use UTC everywhere!')]);
    expect(batch.map((r) => r.duplicate)).toEqual([false, true]);
    expect(await a.store.count('dupes')).toBe(4);
  });

  it("evicts a tenant's oldest past its cap atomically, even under many concurrent writers", async () => {
    const replicas = [replica(), replica(), replica()];
    const writes = Array.from({ length: 90 }, (_, i) =>
      replicas[i % 3].write(fact('capped', `Distinct fact number ${i}: ${randomBytes(6).toString('hex')}`)),
    );
    const results = await Promise.all(writes);
    expect(results.every((r) => !r.duplicate)).toBe(true);
    expect(await replicas[0].store.count('capped')).toBe(20);
    const ids = (await replicas[0].list('capped', { limit: 100 })).entries.map((e) => Number(e.id.slice(1)));
    expect(ids).toHaveLength(20);
    // The newest 20 are kept: the highest ids handed out.
    const handedOut = results.map((r) => Number(r.entry.id.slice(1))).sort((x, y) => y - x);
    expect(ids).toEqual(handedOut.slice(0, 20));
    const fresh = replica();
    expect((await fresh.search('capped', { query: 'Distinct fact number', k: 50 })).matches).toHaveLength(20);
    for (const r of replicas)
      expect((await r.search('capped', { query: 'Distinct fact', k: 50 })).matches).toHaveLength(20);
  });

  it('sweeps expired entries, which search leaves out even before the sweep', async () => {
    const a = replica();
    const short = await a.write(fact('expiry', 'A short-lived fact about caching', { ttlMs: 60_000 }));
    const long = await a.write(fact('expiry', 'A long-lived fact about caching'));
    // Written already past its expiry (as a clock jump would leave it): hidden before any sweep.
    const now = Date.now();
    const { id: stale } = await a.store.add(
      'expiry',
      {
        ...fact('expiry', 'A stale fact about caching'),
        kind: 'fact',
        tags: [],
        createdAt: now - 10,
        expiresAt: now - 1,
        model: 'hashing',
        vector: hashingEmbedding('A stale fact about caching', 256),
      },
      100,
    );
    expect(await a.get('expiry', stale)).toBeNull();
    expect((await a.list('expiry', { limit: 10 })).entries.map((e) => e.id)).not.toContain(stale);
    expect(texts(await a.search('expiry', { query: 'A stale fact about caching', k: 5 }))).not.toContain(
      'A stale fact about caching',
    );
    const later = Date.now() + 120_000;
    expect(await a.sweepExpired(later)).toBeGreaterThanOrEqual(1);
    expect(await a.get('expiry', short.entry.id)).toBeNull();
    expect(await a.get('expiry', long.entry.id)).not.toBeNull();
    expect(texts(await a.search('expiry', { query: 'fact about caching', k: 5 }))).toEqual([
      'A long-lived fact about caching',
    ]);
  });

  it('deletes what a source run wrote, on every replica', async () => {
    const a = replica();
    const b = replica();
    const fromRun = { origin: 'judge' as const, runId: 'run-42', stepId: null };
    await a.writeMany([
      fact('byrun', 'Lesson one about the orders API', { kind: 'lesson', source: fromRun }),
      fact('byrun', 'Lesson two about the shipping API', { kind: 'lesson', source: fromRun }),
      fact('byrun', 'A fact from elsewhere about the orders API'),
    ]);
    expect((await b.list('byrun', { limit: 10, sourceRunId: 'run-42' })).entries).toHaveLength(2);
    expect(await b.search('byrun', { query: 'orders API', k: 5 })).toMatchObject({ matches: { length: 3 } });
    expect(await a.deleteBySourceRun('byrun', 'run-42')).toBe(2);
    expect(await a.deleteBySourceRun('byrun', 'run-42')).toBe(0);
    expect(texts(await b.search('byrun', { query: 'orders API', k: 5 }))).toEqual([
      'A fact from elsewhere about the orders API',
    ]);
  });

  it('lists newest first, a page at a time, with filters', async () => {
    const a = replica();
    for (let i = 0; i < 7; i++) {
      await a.write(
        fact('listing', `Listed entry ${i} ${randomBytes(4).toString('hex')}`, { tags: i % 2 ? ['odd'] : [] }),
      );
    }
    const first = await a.list('listing', { limit: 3 });
    expect(first.entries.map((e) => e.text.slice(0, 14))).toEqual([
      'Listed entry 6',
      'Listed entry 5',
      'Listed entry 4',
    ]);
    const second = await a.list('listing', { limit: 3, cursor: first.nextCursor ?? undefined });
    const third = await a.list('listing', { limit: 3, cursor: second.nextCursor ?? undefined });
    expect(third.entries.map((e) => e.text.slice(0, 14))).toEqual(['Listed entry 0']);
    expect(third.nextCursor).toBeNull();
    const odd = await a.list('listing', { limit: 10, tags: ['odd'] });
    expect(odd.entries).toHaveLength(3);
    expect(odd.nextCursor).toBeNull();
  });

  it('a replica whose cursor fell into the trimmed part of the change log reloads the tenant', async () => {
    // A log of about 5 changes (Redis trims whole stream nodes, so make many more than a node holds).
    const a = replica({ logLength: 5 });
    const reloads: string[] = [];
    const b = replica({ logLength: 5, logger: { warn: () => {}, log: (m: string) => reloads.push(m) } });
    const kept = await a.write(fact('trimmed', 'The first entry, soon to be deleted'));
    expect((await b.search('trimmed', { query: 'first entry', k: 5 })).matches).toHaveLength(1);
    await a.delete('trimmed', kept.entry.id);
    const more = await a.writeMany(
      Array.from({ length: 150 }, (_, i) => fact('trimmed', `Bulk entry ${i} ${randomBytes(6).toString('hex')}`)),
    );
    const log = await a.store.changes('trimmed', '0-0', 0);
    expect(log.changes).toEqual([]);
    expect(log.added - log.length).toBeGreaterThan(1); // b loaded when the log held one change
    // b's cursor is older than what was trimmed: it cannot have seen the delete in the log, yet it forgets the entry.
    const found = await b.search('trimmed', { query: 'The first entry, soon to be deleted', k: 50 });
    expect(found.matches.map((m) => m.entry.id)).not.toContain(kept.entry.id);
    expect(found.matches).toHaveLength(50);
    expect(b.footprint().entries).toBe(more.length);
    expect(reloads).toEqual([expect.stringMatching(/reloading/)]);
    // Up to date again, it follows the log as before.
    const last = await a.write(fact('trimmed', 'One more entry after the reload'));
    const again = await b.search('trimmed', { query: 'One more entry after the reload', k: 1 });
    expect(again.matches[0].entry.id).toBe(last.entry.id);
    expect(reloads).toHaveLength(1);
  });

  it('skips entries embedded with other dimensions than configured, and says so', async () => {
    const warnings: string[] = [];
    const old = replica({}, { dimensions: 64 });
    await old.write(fact('redims', 'An entry embedded with 64 dimensions'));
    const now = replica({ logger: { warn: (m: string) => warnings.push(m), log: () => {} } });
    await now.write(fact('redims', 'An entry embedded with 256 dimensions'));
    expect(texts(await now.search('redims', { query: 'An entry embedded with dimensions', k: 5 }))).toEqual([
      'An entry embedded with 256 dimensions',
    ]);
    await now.search('redims', { query: 'entry', k: 5 });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/64 dimensions/);
  });

  it("with dimensions 0, takes the model's own length", async () => {
    const own = replica({}, { dimensions: 0 });
    await own.write(fact('own-dims', 'The model decides the length of this vector'));
    expect(model.embeddingRequests.at(-1)).toMatchObject({ askedDimensions: null, dimensions: 256 });
    const found = await replica({}, { dimensions: 0 }).search('own-dims', { query: 'length of this vector' });
    expect(texts(found)).toEqual(['The model decides the length of this vector']);
  });

  it('asks the embeddings endpoint once per batch, and refuses bad input before any request', async () => {
    const a = replica();
    const before = model.embeddingRequests.length;
    await a.writeMany([fact('batch', 'one thing'), fact('batch', 'another thing entirely')]);
    expect(model.embeddingRequests.length).toBe(before + 1);
    expect(model.embeddingRequests.at(-1)).toMatchObject({ model: 'hashing', askedDimensions: 256 });
    await expect(a.write(fact('batch', '   '))).rejects.toThrow();
    await expect(a.write(fact('Bad Tenant', 'text'))).rejects.toThrow();
    await expect(a.search('batch', { query: 'x', k: 0 })).rejects.toThrow();
    expect(model.embeddingRequests.length).toBe(before + 1);
  });

  it('forgets the indexes of tenants not used for a while, keeping at most maxTenants', async () => {
    const a = replica({ maxTenants: 2 });
    for (const t of ['lru-1', 'lru-2', 'lru-3']) await a.write(fact(t, `A fact of ${t}`));
    expect(a.footprint().tenants).toBe(2);
    // A forgotten tenant is loaded again from Redis.
    expect(texts(await a.search('lru-1', { query: 'A fact of lru-1', k: 1 }))).toEqual(['A fact of lru-1']);
    const small = replica({ maxIndexedEntries: 1 });
    await small.search('lru-1', { query: 'fact' });
    await small.search('lru-2', { query: 'fact' }); // one entry more than the bound: lru-1 goes
    expect(small.footprint()).toMatchObject({ tenants: 1, entries: 1 });
    const idle = replica({ tenantIdleMs: 0 });
    await idle.write(fact('lru-1', 'Another fact of lru-1'));
    await idle.write(fact('lru-2', 'Another fact of lru-2'));
    expect(idle.footprint().tenants).toBe(1);
  });
});

describe('Embedder', () => {
  let server: Server;
  let url: string;
  let reply: unknown;
  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(reply));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const embedder = () => new Embedder(loadConfig({ OPENAI_BASE_URL: url, TRIAD_EMBEDDING_DIMENSIONS: '3' }));
  const vector = (embedding: unknown, index = 0) => ({ object: 'embedding', index, embedding });
  const usage = { prompt_tokens: 4, total_tokens: 4 };

  it('returns the vectors in input order, with the tokens used', async () => {
    reply = { object: 'list', data: [vector([0, 1, 0], 1), vector([1, 0, 0], 0)], model: 'x', usage };
    const got = await embedder().embed(['a', 'b']);
    expect(got.vectors.map((v) => Array.from(v))).toEqual([
      [1, 0, 0],
      [0, 1, 0],
    ]);
    expect(got).toMatchObject({ dimensions: 3, tokens: 4 });
  });

  it.each([
    ['too few vectors', { data: [vector([1, 0, 0])], usage }, /1 vectors for 2 texts/],
    ['a vector of the wrong length', { data: [vector([1, 0, 0]), vector([1, 0], 1)], usage }, /2 numbers, expected 3/],
    ['a non-finite number', { data: [vector([1, 0, 0]), vector([1, 'x', 0], 1)], usage }, /not finite/],
    ['a zero vector', { data: [vector([1, 0, 0]), vector([0, 0, 0], 1)], usage }, /all zeros/],
    ['no data', { usage }, /no data/],
    ['a repeated index', { data: [vector([1, 0, 0]), vector([0, 1, 0])], usage }, /out of place/],
  ])('refuses a reply with %s', async (_, body, message) => {
    reply = { object: 'list', model: 'x', ...body };
    const err = await embedder()
      .embed(['a', 'b'])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadModelReplyError);
    expect((err as Error).message).toMatch(message);
  });

  it('stores nothing from a broken reply: the write fails with the reason', async () => {
    reply = { object: 'list', model: 'x', data: [vector([1, Number.NaN, 0])], usage };
    const c = loadConfig({ TRIAD_PREFIX: prefix, OPENAI_BASE_URL: url, TRIAD_EMBEDDING_DIMENSIONS: '3' });
    const memory = new RedisSemanticMemory(redis, c, new Embedder(c), { logger: quiet });
    await expect(memory.write(fact('broken', 'Anything at all'))).rejects.toThrow(/not finite/);
    expect(await memory.store.count('broken')).toBe(0);
    expect(await redis.exists(memory.store.keys.memoryLog('broken'))).toBe(0);
  });

  it('gets the same vector for the same text from the scripted model, and similar ones for similar texts', async () => {
    const e = new Embedder(loadConfig({ OPENAI_BASE_URL: `${model.url}/v1`, TRIAD_EMBEDDING_DIMENSIONS: '128' }));
    const [a, a2, close, far] = (
      await e.embed(['The API wants ISO dates', 'The API wants ISO dates', 'The API wants ISO dates!', 'Cats purr'])
    ).vectors;
    const cos = (x: Float32Array, y: Float32Array) => x.reduce((s, v, i) => s + v * y[i], 0);
    expect(a).toHaveLength(128);
    expect(Array.from(a2)).toEqual(Array.from(a));
    expect(cos(a, close)).toBeGreaterThan(0.9);
    expect(cos(a, far)).toBeLessThan(0.5);
  });
});
