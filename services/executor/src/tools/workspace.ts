import { lstat, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { ToolFailure } from './tool.js';

/**
 * The folder a run's file tools are confined to. Paths from the model are relative to its root; anything
 * that would reach outside - absolute paths, `..`, NUL bytes, symlinks leading out - is refused.
 * Confinement is checked at resolve time; a symlink swapped in afterwards is not this class's concern.
 */
export class Workspace {
  /** Absolute root; give a realpath (see `open`) or symlinked roots will look like escapes. */
  readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  /** Opens a workspace on an existing directory, resolving symlinks in the root path itself. */
  static async open(root: string): Promise<Workspace> {
    const real = await realpath(root);
    if (!(await stat(real)).isDirectory()) throw new Error(`Workspace root is not a directory: ${root}`);
    return new Workspace(real);
  }

  /** The real absolute path of `relPath` inside the workspace (it need not exist yet); throws ToolFailure otherwise. */
  async resolve(relPath: string): Promise<string> {
    if (typeof relPath !== 'string' || relPath === '') {
      throw new ToolFailure('Path must be a non-empty string; use "." for the workspace root');
    }
    if (relPath.includes('\0')) throw new ToolFailure('Path must not contain NUL bytes');
    if (path.isAbsolute(relPath) || path.win32.isAbsolute(relPath)) {
      throw new ToolFailure(
        `Absolute paths are not allowed ("${relPath}"); give a path relative to the workspace root`,
      );
    }
    const lexical = path.resolve(this.root, relPath);
    if (!this.contains(lexical)) throw new ToolFailure(`Path "${relPath}" escapes the workspace`);
    const real = await this.realpathAllowingMissing(lexical, relPath);
    if (!this.contains(real)) {
      throw new ToolFailure(`Path "${relPath}" leads outside the workspace through a symbolic link`);
    }
    return real;
  }

  /** `absPath` relative to the root, with `/` separators; "." for the root itself. */
  relative(absPath: string): string {
    return path.relative(this.root, absPath).split(path.sep).join('/') || '.';
  }

  private contains(absPath: string): boolean {
    const rel = path.relative(this.root, absPath);
    return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
  }

  // Not-yet-existing files are resolved through their nearest existing ancestor, so a symlinked parent
  // directory cannot smuggle a future write outside the root.
  private async realpathAllowingMissing(absPath: string, relPath: string): Promise<string> {
    try {
      return await realpath(absPath);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw new ToolFailure(`Cannot resolve "${relPath}": ${code}`);
      // The entry exists but realpath failed: a dangling symlink, whose target we cannot vouch for.
      if (
        await lstat(absPath).then(
          () => true,
          () => false,
        )
      ) {
        throw new ToolFailure(`Path "${relPath}" is a symbolic link to something that does not exist`);
      }
      const parent = path.dirname(absPath);
      if (parent === absPath) throw new ToolFailure(`Cannot resolve "${relPath}"`);
      return path.join(await this.realpathAllowingMissing(parent, relPath), path.basename(absPath));
    }
  }
}
