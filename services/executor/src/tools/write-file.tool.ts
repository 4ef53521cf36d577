import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, link, lstat, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { fsFailure } from './fs-failure.js';
import { defineTool, ToolFailure } from './tool.js';
import type { Workspace } from './workspace.js';

/** Largest content write_file accepts, in UTF-8 bytes. */
export const MAX_WRITE_BYTES = 1024 * 1024;

const WriteMode = z.enum(['create', 'overwrite', 'append']);
type WriteMode = z.infer<typeof WriteMode>;

// fs-failure words its reasons for reading; these are the ones a write meets.
const WRITE_REASONS: Record<string, string> = {
  EEXIST: 'already exists; use mode "overwrite" or "append"',
  EACCES: 'is not writable (permission denied)',
  EPERM: 'is not writable (operation not permitted)',
  EROFS: 'is on a read-only file system',
  ENOSPC: 'cannot be written: the disk is full',
  EISDIR: 'is a directory',
};

/** Writes a UTF-8 text file in the workspace: create a new file, replace one, or append to one. */
export const writeFileTool = defineTool({
  name: 'write_file',
  description:
    'Write a UTF-8 text file in the workspace (content at most 1 MB). mode "create" fails if the file exists, ' +
    '"overwrite" replaces it (or creates it), "append" adds to its end (or creates it). Missing parent folders ' +
    'are created. Symbolic links are never written through.',
  input: z.object({
    path: z.string().describe('File path relative to the workspace root, e.g. "reports/summary.md"'),
    // Characters never outnumber UTF-8 bytes, so this cheap bound is safe; the byte limit is checked in run().
    content: z.string().max(MAX_WRITE_BYTES).describe('The text to write (at most 1 MB)'),
    mode: WriteMode.describe('"create", "overwrite" or "append"'),
  }),
  output: z.object({ path: z.string(), bytes: z.number().int().nonnegative(), mode: WriteMode }),
  risk: 'write',
  async run({ path: relPath, content, mode }, { workspace, signal }) {
    const bytes = Buffer.byteLength(content, 'utf8');
    if (bytes > MAX_WRITE_BYTES) {
      throw new ToolFailure(`Content is ${bytes} bytes; write_file accepts at most ${MAX_WRITE_BYTES} bytes`);
    }
    // JSON escapes can carry lone surrogates, which UTF-8 cannot encode (Buffer would silently write U+FFFD).
    if (!content.isWellFormed()) throw new ToolFailure('Content is not valid Unicode text (it has a lone surrogate)');
    const file = await workspace.resolve(relPath);
    try {
      await refuseLinksAndFolders(workspace, relPath, file);
      await makeParents(path.dirname(file), relPath);
      const data = Buffer.from(content, 'utf8');
      if (mode === 'append') await appendNoFollow(file, data);
      else await writeAtomically(file, data, mode, signal);
      return { path: workspace.relative(file), bytes, mode };
    } catch (err) {
      throw writeFailure(err, relPath);
    }
  },
});

// Workspace.resolve follows links that stay inside the root; a write must not, or "notes.txt -> config.json"
// would let the model change a file it never named.
async function refuseLinksAndFolders(workspace: Workspace, relPath: string, file: string): Promise<void> {
  const named = path.resolve(workspace.root, relPath);
  const info = await lstat(named).catch(() => undefined);
  if (info?.isSymbolicLink())
    throw new ToolFailure(`Path "${relPath}" is a symbolic link; write_file does not follow links`);
  const target = info ?? (await lstat(file).catch(() => undefined));
  if (target?.isDirectory()) throw new ToolFailure(`Path "${relPath}" is a directory; give a file path`);
  if (target && !target.isFile()) throw new ToolFailure(`Path "${relPath}" is not a regular file`);
}

async function makeParents(dir: string, relPath: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EEXIST' && code !== 'ENOTDIR') throw err;
    throw new ToolFailure(`Cannot write "${relPath}": one of its parent folders is a file`, { cause: err });
  }
}

// O_NOFOLLOW closes the gap between the check above and the open: a link swapped in meanwhile is refused (ELOOP).
async function appendNoFollow(file: string, data: Buffer): Promise<void> {
  const flags = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW;
  const handle = await open(file, flags, 0o666);
  try {
    await handle.writeFile(data);
  } finally {
    await handle.close();
  }
}

// The content goes to a fresh temp file beside the target first, so a crash leaves the old file or the new one,
// never half of either. "create" publishes with link(), which fails if the name exists (no check-then-write race);
// "overwrite" with rename(), which replaces the name itself and so never writes through a link put there meanwhile.
async function writeAtomically(file: string, data: Buffer, mode: WriteMode, signal: AbortSignal): Promise<void> {
  // A short name of its own: the target's name may already use up the 255 bytes a name can have.
  const temp = path.join(path.dirname(file), `.triad-${randomBytes(8).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', 0o666);
  try {
    try {
      await handle.writeFile(data, { signal });
      if (mode === 'overwrite') {
        const previous = await stat(file).catch(() => undefined);
        if (previous) await chmod(temp, previous.mode & 0o7777); // replacing a file keeps its permissions
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (mode === 'create') await link(temp, file);
    else await rename(temp, file);
  } finally {
    await rm(temp, { force: true });
  }
}

function writeFailure(err: unknown, relPath: string): unknown {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ELOOP')
    return new ToolFailure(`Path "${relPath}" is a symbolic link; write_file does not follow links`);
  const reason = code === undefined ? undefined : WRITE_REASONS[code];
  return reason ? new ToolFailure(`Path "${relPath}" ${reason}`, { cause: err }) : fsFailure(err, relPath);
}
