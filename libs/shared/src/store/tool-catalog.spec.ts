import { randomBytes } from 'node:crypto';
import { afterAll, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { ToolCatalog } from './tool-catalog.js';

const redis = new Redis(process.env.REDIS_URL || 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
const prefix = `spec${randomBytes(4).toString('hex')}`;
const catalog = new ToolCatalog(redis, prefix);
const spec = (name: string, description: string) => ({
  name,
  description,
  risk: 'read' as const,
  parameters: { type: 'object', properties: {} },
  strict: true,
  secretArguments: [],
});

afterAll(async () => {
  await redis.del(`${prefix}:tools`, `${prefix}-empty:tools`);
  await redis.quit();
});

it('lists what is published now, sorted, skipping entries that do not parse', async () => {
  await catalog.publish([spec('zeta', 'z'), spec('alpha', 'a')]);
  await redis.hset(`${prefix}:tools`, 'broken', JSON.stringify({ name: 'Broken!' }));
  expect((await catalog.list(0)).map((t) => t.name)).toEqual(['alpha', 'zeta']);
  // A second reader's change shows at once: the store is read every time, only parsing is reused.
  await new ToolCatalog(redis, prefix).publish([spec('alpha', 'changed')]);
  const again = await catalog.list(0);
  expect(again.map((t) => [t.name, t.description])).toEqual([
    ['alpha', 'changed'],
    ['zeta', 'z'],
  ]);
  await redis.hdel(`${prefix}:tools`, 'zeta');
  expect((await catalog.list(0)).map((t) => t.name)).toEqual(['alpha']);
});

it('hands out entries that cannot be changed by one caller for the next', async () => {
  const [first] = await catalog.list(0);
  expect(() => {
    (first.parameters as Record<string, unknown>).type = 'string';
  }).toThrow(TypeError);
  expect((await catalog.list(0))[0].parameters).toEqual({ type: 'object', properties: {} });
});

it('reuses a list read less than maxAgeMs ago, and reads again after', async () => {
  const reader = new ToolCatalog(redis, prefix);
  await catalog.publish([spec('alpha', 'before')]);
  expect((await reader.list(60_000)).find((t) => t.name === 'alpha')?.description).toBe('before');
  await catalog.publish([spec('alpha', 'after')]);
  expect((await reader.list(60_000)).find((t) => t.name === 'alpha')?.description).toBe('before');
  expect((await reader.list(0)).find((t) => t.name === 'alpha')?.description).toBe('after');
});

it('does not reuse an empty catalog: the first executor’s tools show at once', async () => {
  const empty = new ToolCatalog(redis, `${prefix}-empty`);
  expect(await empty.list(60_000)).toEqual([]);
  await new ToolCatalog(redis, `${prefix}-empty`).publish([spec('first', 'f')]);
  expect((await empty.list(60_000)).map((t) => t.name)).toEqual(['first']);
});
