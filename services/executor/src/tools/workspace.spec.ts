import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ToolFailure } from './tool.js';
import { Workspace } from './workspace.js';

describe('Workspace', () => {
  let base: string; // holds the workspace root and an "outside" folder next to it
  let workspace: Workspace;

  beforeAll(async () => {
    base = await realpath(await mkdtemp(path.join(os.tmpdir(), 'triad-ws-')));
    const root = path.join(base, 'root');
    await mkdir(path.join(root, 'docs'), { recursive: true });
    await mkdir(path.join(base, 'outside'));
    await writeFile(path.join(root, 'docs', 'a.txt'), 'a');
    await writeFile(path.join(base, 'outside', 'secret.txt'), 'secret');
    await symlink(path.join(base, 'outside', 'secret.txt'), path.join(root, 'leak.txt'));
    await symlink(path.join(base, 'outside'), path.join(root, 'leakdir'));
    await symlink(path.join(root, 'docs', 'a.txt'), path.join(root, 'alias.txt'));
    await symlink(path.join(base, 'outside', 'missing.txt'), path.join(root, 'dangling'));
    await symlink(root, path.join(base, 'root-link'));
    workspace = await Workspace.open(path.join(base, 'root-link'));
  });
  afterAll(() => rm(base, { recursive: true, force: true }));

  const failure = async (relPath: string): Promise<ToolFailure> => {
    const err = await workspace.resolve(relPath).then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!(err instanceof ToolFailure)) throw new Error(`expected a ToolFailure for ${JSON.stringify(relPath)}`);
    return err;
  };

  it('open() resolves a symlinked root to its real path', () => {
    expect(workspace.root).toBe(path.join(base, 'root'));
  });

  it('open() refuses a root that is a file', async () => {
    await expect(Workspace.open(path.join(base, 'outside', 'secret.txt'))).rejects.toThrow(/not a directory/);
  });

  it('resolves paths inside the root, existing or not', async () => {
    const root = workspace.root;
    await expect(workspace.resolve('.')).resolves.toBe(root);
    await expect(workspace.resolve('docs/a.txt')).resolves.toBe(path.join(root, 'docs', 'a.txt'));
    await expect(workspace.resolve('docs/../docs/./a.txt')).resolves.toBe(path.join(root, 'docs', 'a.txt'));
    await expect(workspace.resolve('new/deeper/file.txt')).resolves.toBe(path.join(root, 'new', 'deeper', 'file.txt'));
  });

  it('follows symlinks that stay inside the root', async () => {
    await expect(workspace.resolve('alias.txt')).resolves.toBe(path.join(workspace.root, 'docs', 'a.txt'));
  });

  it.each([
    ['../../etc/passwd', /escapes the workspace/],
    ['docs/../../outside/secret.txt', /escapes the workspace/],
    ['..', /escapes the workspace/],
    ['/etc/passwd', /Absolute paths are not allowed/],
    ['C:\\Windows\\win.ini', /Absolute paths are not allowed/],
    ['docs/a.txt\0.png', /NUL/],
    ['', /non-empty/],
    ['leak.txt', /outside the workspace through a symbolic link/],
    ['leakdir/secret.txt', /outside the workspace through a symbolic link/],
    ['leakdir/not-yet-created.txt', /outside the workspace through a symbolic link/],
    ['dangling', /symbolic link to something that does not exist/],
  ])('refuses %j', async (relPath, message) => {
    const err = await failure(relPath);
    expect(err.message).toMatch(message);
    expect([err.code, err.retryable]).toEqual(['tool_error', false]);
    expect(err.message).not.toContain(base); // the model never learns where the workspace lives
  });

  it('renders absolute paths relative to the root', () => {
    expect(workspace.relative(workspace.root)).toBe('.');
    expect(workspace.relative(path.join(workspace.root, 'docs', 'a.txt'))).toBe('docs/a.txt');
  });
});
