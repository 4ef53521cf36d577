import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { testContext } from './testing/test-context.js';
import type { ToolContext } from './tool.js';
import { ToolRegistry } from './tool-registry.js';
import { runTool } from './tool-runner.js';
import { Workspace } from './workspace.js';
import { MAX_WRITE_BYTES, writeFileTool } from './write-file.tool.js';

describe('write_file tool', () => {
  const registry = new ToolRegistry([writeFileTool]);
  let base: string;
  let root: string;
  let ctx: ToolContext;

  beforeAll(async () => {
    base = await mkdtemp(path.join(os.tmpdir(), 'triad-write-'));
    root = path.join(base, 'root');
    await mkdir(path.join(root, 'docs'), { recursive: true });
    await mkdir(path.join(base, 'outside'));
    await writeFile(path.join(root, 'docs', 'note.txt'), 'original\n');
    await writeFile(path.join(base, 'outside', 'secret.txt'), 'secret');
    await symlink(path.join(base, 'outside', 'secret.txt'), path.join(root, 'secret-link.txt'));
    await symlink(path.join(base, 'outside'), path.join(root, 'outside-dir'));
    await symlink(path.join(root, 'docs', 'note.txt'), path.join(root, 'alias.txt'));
    await symlink(path.join(root, 'nowhere.txt'), path.join(root, 'dangling.txt'));
    ctx = testContext({ workspace: await Workspace.open(root) });
  });
  afterAll(() => rm(base, { recursive: true, force: true }));

  const write = (relPath: string, content: string, mode = 'create') =>
    runTool(registry, { tool: 'write_file', arguments: JSON.stringify({ path: relPath, content, mode }) }, ctx);
  const read = (relPath: string) => readFile(path.join(root, relPath), 'utf8');
  const tempFiles = async () =>
    (await readdir(root, { recursive: true })).filter((name) => name.toString().endsWith('.tmp'));

  it('creates a file and its missing parent folders, reporting bytes written', async () => {
    await expect(write('new/deep/hello.txt', 'olá\n')).resolves.toEqual({
      ok: true,
      data: { path: 'new/deep/hello.txt', bytes: 5, mode: 'create' },
    });
    expect(await read('new/deep/hello.txt')).toBe('olá\n');
    expect(await tempFiles()).toEqual([]);
  });

  it('refuses to create over an existing file and leaves it and no temp file behind', async () => {
    const obs = await write('docs/note.txt', 'clobbered');
    expect(obs).toMatchObject({
      ok: false,
      error: { code: 'tool_error', message: expect.stringMatching(/already exists/) },
    });
    expect(await read('docs/note.txt')).toBe('original\n');
    expect(await tempFiles()).toEqual([]);
  });

  it('lets exactly one of two simultaneous creates of the same name win', async () => {
    const results = await Promise.all([write('race.txt', 'first'), write('race.txt', 'second')]);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(['first', 'second']).toContain(await read('race.txt'));
  });

  it('overwrites a file in place, keeping its permissions', async () => {
    await writeFile(path.join(root, 'perm.txt'), 'old');
    await chmod(path.join(root, 'perm.txt'), 0o640);
    await expect(write('perm.txt', 'new', 'overwrite')).resolves.toMatchObject({ ok: true, data: { bytes: 3 } });
    expect(await read('perm.txt')).toBe('new');
    expect((await stat(path.join(root, 'perm.txt'))).mode & 0o777).toBe(0o640);
    await expect(write('fresh.txt', 'made by overwrite', 'overwrite')).resolves.toMatchObject({ ok: true });
  });

  it('writes a file whose name is 250 characters long (names may be up to 255 bytes), in every mode', async () => {
    const name = `${'n'.repeat(246)}.txt`;
    for (const mode of ['create', 'overwrite', 'append']) {
      await expect(write(`long/${name}`, `${mode}\n`, mode)).resolves.toMatchObject({ ok: true, data: { mode } });
    }
    expect(await read(`long/${name}`)).toBe('overwrite\nappend\n');
    expect(await tempFiles()).toEqual([]);
  });

  it('appends to a file, creating it first when missing', async () => {
    await write('log.txt', 'one\n', 'append');
    await write('log.txt', 'two\n', 'append');
    expect(await read('log.txt')).toBe('one\ntwo\n');
  });

  it('accepts content of exactly 1 MB', async () => {
    await expect(write('big.txt', 'a'.repeat(MAX_WRITE_BYTES))).resolves.toMatchObject({
      ok: true,
      data: { bytes: MAX_WRITE_BYTES },
    });
  });

  it.each([
    ['../../etc/passwd', 'create', /escapes the workspace/],
    ['../outside/new.txt', 'create', /escapes the workspace/],
    ['/etc/passwd', 'overwrite', /Absolute paths are not allowed/],
    ['secret-link.txt', 'overwrite', /outside the workspace through a symbolic link/],
    ['secret-link.txt', 'append', /outside the workspace through a symbolic link/],
    ['outside-dir/planted.txt', 'create', /outside the workspace through a symbolic link/],
    ['alias.txt', 'overwrite', /is a symbolic link; write_file does not follow links/],
    ['alias.txt', 'append', /is a symbolic link; write_file does not follow links/],
    ['dangling.txt', 'create', /symbolic link to something that does not exist/],
    ['docs', 'overwrite', /is a directory/],
    ['.', 'overwrite', /is a directory/],
    ['docs/note.txt/child.txt', 'create', /parent folders is a file/],
  ])('refuses %j (mode %s) with a tool_error and changes nothing', async (relPath, mode, message) => {
    const obs = await write(relPath, 'pwned', mode);
    expect(obs).toMatchObject({ ok: false, error: { code: 'tool_error', retryable: false } });
    expect(!obs.ok && obs.error.message).toMatch(message);
    expect(!obs.ok && obs.error.message).not.toContain(base);
    expect(await readFile(path.join(base, 'outside', 'secret.txt'), 'utf8')).toBe('secret');
    expect(await readdir(path.join(base, 'outside'))).toEqual(['secret.txt']);
    expect(await read('docs/note.txt')).toBe('original\n');
    expect((await lstat(path.join(root, 'alias.txt'))).isSymbolicLink()).toBe(true);
  });

  it('refuses content over 1 MB: by bytes in the tool, by characters in the schema', async () => {
    const multiByte = await write('wide.txt', 'é'.repeat(MAX_WRITE_BYTES / 2 + 1));
    expect(multiByte).toMatchObject({ ok: false, error: { code: 'tool_error' } });
    expect(!multiByte.ok && multiByte.error.message).toMatch(/accepts at most 1048576 bytes/);
    await expect(write('long.txt', 'a'.repeat(MAX_WRITE_BYTES + 1))).resolves.toMatchObject({
      error: { code: 'invalid_arguments' },
    });
    await expect(stat(path.join(root, 'wide.txt'))).rejects.toThrow();
  });

  it('refuses text that UTF-8 cannot encode instead of writing replacement characters', async () => {
    const obs = await runTool(
      registry,
      { tool: 'write_file', arguments: '{"path":"bad.txt","content":"a\\ud800b","mode":"create"}' },
      ctx,
    );
    expect(obs).toMatchObject({
      ok: false,
      error: { code: 'tool_error', message: expect.stringMatching(/surrogate/) },
    });
    await expect(stat(path.join(root, 'bad.txt'))).rejects.toThrow();
  });

  it('rejects an unknown mode before touching the disk', async () => {
    await expect(write('x.txt', 'x', 'truncate')).resolves.toMatchObject({ error: { code: 'invalid_arguments' } });
  });

  it('is a write tool with all inputs required', () => {
    expect(writeFileTool.risk).toBe('write');
    expect(registry.specs()[0].parameters.required).toEqual(['path', 'content', 'mode']);
  });
});
