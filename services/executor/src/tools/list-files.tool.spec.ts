import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { listFilesTool, MAX_LIST_ENTRIES } from './list-files.tool.js';
import { testContext } from './testing/test-context.js';
import type { ToolContext } from './tool.js';
import { ToolRegistry } from './tool-registry.js';
import { runTool } from './tool-runner.js';
import { Workspace } from './workspace.js';

describe('list_files tool', () => {
  const registry = new ToolRegistry([listFilesTool]);
  let base: string;
  let ctx: ToolContext;

  beforeAll(async () => {
    base = await mkdtemp(path.join(os.tmpdir(), 'triad-list-'));
    const root = path.join(base, 'root');
    await mkdir(path.join(root, 'many'), { recursive: true });
    await mkdir(path.join(root, 'sub'));
    await mkdir(path.join(base, 'outside'));
    await writeFile(path.join(root, 'b.txt'), 'hello');
    await writeFile(path.join(root, 'a.json'), '{}');
    await writeFile(path.join(root, 'sub', 'inner.txt'), 'x');
    await symlink(path.join(base, 'outside'), path.join(root, 'escape'));
    await Promise.all(
      Array.from({ length: MAX_LIST_ENTRIES + 5 }, (_, i) =>
        writeFile(path.join(root, 'many', `f${String(i).padStart(4, '0')}`), ''),
      ),
    );
    const workspace = await Workspace.open(root);
    ctx = testContext({ workspace });
  });
  afterAll(() => rm(base, { recursive: true, force: true }));

  const list = (relPath: string) =>
    runTool(registry, { tool: 'list_files', arguments: JSON.stringify({ path: relPath }) }, ctx);

  it('lists the root sorted by name with types and sizes', async () => {
    await expect(list('.')).resolves.toEqual({
      ok: true,
      data: {
        path: '.',
        truncated: false,
        entries: [
          { name: 'a.json', type: 'file', size: 2 },
          { name: 'b.txt', type: 'file', size: 5 },
          { name: 'escape', type: 'other', size: 0 },
          { name: 'many', type: 'directory', size: 0 },
          { name: 'sub', type: 'directory', size: 0 },
        ],
      },
    });
  });

  it('lists a subfolder and normalizes the echoed path', async () => {
    await expect(list('./sub/')).resolves.toEqual({
      ok: true,
      data: { path: 'sub', truncated: false, entries: [{ name: 'inner.txt', type: 'file', size: 1 }] },
    });
  });

  it(`caps the listing at ${MAX_LIST_ENTRIES} entries and says so`, async () => {
    const obs = await list('many');
    if (!obs.ok) throw new Error(obs.error.message);
    const data = obs.data as { entries: { name: string }[]; truncated: boolean };
    expect(data.truncated).toBe(true);
    expect(data.entries).toHaveLength(MAX_LIST_ENTRIES);
    expect(data.entries.at(-1)?.name).toBe('f0499');
  });

  it.each([
    ['../../etc', /escapes the workspace/],
    ['/etc', /Absolute paths/],
    ['escape', /symbolic link/],
    ['sub\0', /NUL/],
    ['missing', /does not exist/],
    ['b.txt', /is a file, not a directory; use read_file/],
  ])('refuses %j with a tool_error', async (relPath, message) => {
    const obs = await list(relPath);
    expect(obs).toMatchObject({ ok: false, error: { code: 'tool_error', retryable: false } });
    expect(!obs.ok && obs.error.message).toMatch(message);
  });
});
