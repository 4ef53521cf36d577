import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MAX_READ_BYTES, readFileTool } from './read-file.tool.js';
import { testContext } from './testing/test-context.js';
import type { ToolContext } from './tool.js';
import { ToolRegistry } from './tool-registry.js';
import { runTool } from './tool-runner.js';
import { Workspace } from './workspace.js';

describe('read_file tool', () => {
  const registry = new ToolRegistry([readFileTool]);
  let base: string;
  let ctx: ToolContext;

  beforeAll(async () => {
    base = await mkdtemp(path.join(os.tmpdir(), 'triad-read-'));
    const root = path.join(base, 'root');
    await mkdir(path.join(root, 'docs'), { recursive: true });
    await mkdir(path.join(base, 'outside'));
    await writeFile(path.join(root, 'docs', 'note.txt'), 'olá, mundo\n');
    await writeFile(path.join(root, 'limit.txt'), 'a'.repeat(MAX_READ_BYTES));
    await writeFile(path.join(root, 'huge.txt'), 'a'.repeat(MAX_READ_BYTES + 1));
    await writeFile(path.join(root, 'binary.bin'), Buffer.from([0x48, 0x69, 0xff, 0xfe, 0x00]));
    await writeFile(path.join(base, 'outside', 'secret.txt'), 'secret');
    await symlink(path.join(base, 'outside', 'secret.txt'), path.join(root, 'secret-link.txt'));
    const workspace = await Workspace.open(root);
    ctx = testContext({ workspace });
  });
  afterAll(() => rm(base, { recursive: true, force: true }));

  const read = (relPath: string) =>
    runTool(registry, { tool: 'read_file', arguments: JSON.stringify({ path: relPath }) }, ctx);

  it('reads a UTF-8 file and reports its size in bytes', async () => {
    await expect(read('docs/note.txt')).resolves.toEqual({
      ok: true,
      data: { path: 'docs/note.txt', content: 'olá, mundo\n', bytes: 12 },
    });
  });

  it('accepts a file of exactly the size limit (the observation itself is then truncated)', async () => {
    const obs = await read('limit.txt');
    expect(obs).toMatchObject({ ok: true, data: { truncated: true, originalBytes: expect.any(Number) } });
  });

  it.each([
    ['../../etc/passwd', /escapes the workspace/],
    ['/etc/passwd', /Absolute paths are not allowed/],
    ['secret-link.txt', /outside the workspace through a symbolic link/],
    ['docs/note.txt\0.png', /NUL/],
    ['huge.txt', new RegExp(`is ${MAX_READ_BYTES + 1} bytes; read_file accepts at most ${MAX_READ_BYTES}`)],
    ['binary.bin', /not valid UTF-8/],
    ['docs', /is a directory; use list_files/],
    ['docs/missing.txt', /does not exist/],
    ['docs/note.txt/child', /is not a directory/],
  ])('refuses %j with a tool_error', async (relPath, message) => {
    const obs = await read(relPath);
    expect(obs).toMatchObject({ ok: false, error: { code: 'tool_error', retryable: false } });
    expect(!obs.ok && obs.error.message).toMatch(message);
    expect(!obs.ok && obs.error.message).not.toContain(base);
  });

  it('never returns the content of a file outside the workspace', async () => {
    const obs = await read('secret-link.txt');
    expect(JSON.stringify(obs)).not.toContain('secret"');
  });
});
