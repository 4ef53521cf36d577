import type { Dirent } from 'node:fs';
import { lstat, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { fsFailure } from './fs-failure.js';
import { defineTool, ToolFailure } from './tool.js';

/** Most entries one list_files call returns; keeps the observation small. */
export const MAX_LIST_ENTRIES = 500;

const Entry = z.object({
  name: z.string(),
  type: z.enum(['file', 'directory', 'other']),
  size: z.number().int().nonnegative(),
});

/** Lists one directory of the workspace (not recursive). */
export const listFilesTool = defineTool({
  name: 'list_files',
  description:
    'List the entries of a directory in the workspace, sorted by name. Size is in bytes for files and 0 for ' +
    `anything else; symbolic links are reported as "other". At most ${MAX_LIST_ENTRIES} entries are returned.`,
  input: z.object({
    path: z.string().describe('Directory path relative to the workspace root; "." for the root'),
  }),
  output: z.object({ path: z.string(), entries: z.array(Entry), truncated: z.boolean() }),
  risk: 'read',
  async run({ path: relPath }, { workspace }) {
    const dir = await workspace.resolve(relPath);
    try {
      if (!(await stat(dir)).isDirectory()) {
        throw new ToolFailure(`Path "${relPath}" is a file, not a directory; use read_file to read it`);
      }
      const dirents = await readdir(dir, { withFileTypes: true });
      // Code-unit order rather than locale order, so the listing is the same on every machine.
      dirents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      const kept = dirents.slice(0, MAX_LIST_ENTRIES);
      const entries = await Promise.all(kept.map((d) => describeEntry(dir, d)));
      return { path: workspace.relative(dir), entries, truncated: dirents.length > kept.length };
    } catch (err) {
      throw fsFailure(err, relPath);
    }
  },
});

async function describeEntry(dir: string, dirent: Dirent): Promise<z.infer<typeof Entry>> {
  const type = dirent.isFile() ? 'file' : dirent.isDirectory() ? 'directory' : 'other';
  if (type !== 'file') return { name: dirent.name, type, size: 0 };
  // The file may vanish between readdir and lstat; listing it with size 0 beats failing the whole call.
  const size = await lstat(path.join(dir, dirent.name)).then(
    (s) => s.size,
    () => 0,
  );
  return { name: dirent.name, type, size };
}
