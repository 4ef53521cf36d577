import { readFile, stat } from 'node:fs/promises';
import { z } from 'zod';
import { fsFailure } from './fs-failure.js';
import { defineTool, ToolFailure } from './tool.js';

/** Largest file read_file accepts, in bytes. */
export const MAX_READ_BYTES = 256 * 1024;

/** Reads one UTF-8 text file from the workspace. */
export const readFileTool = defineTool({
  name: 'read_file',
  description: `Read a UTF-8 text file from the workspace (at most ${MAX_READ_BYTES / 1024} KB). Binary files are refused.`,
  input: z.object({
    path: z.string().describe('File path relative to the workspace root, e.g. "cities/lisbon.json"'),
  }),
  output: z.object({ path: z.string(), content: z.string(), bytes: z.number().int().nonnegative() }),
  risk: 'read',
  async run({ path: relPath }, { workspace, signal }) {
    const file = await workspace.resolve(relPath);
    try {
      const info = await stat(file);
      if (info.isDirectory()) {
        throw new ToolFailure(`Path "${relPath}" is a directory; use list_files to see what it contains`);
      }
      // FIFOs and devices could block forever or never end.
      if (!info.isFile()) throw new ToolFailure(`Path "${relPath}" is not a regular file`);
      if (info.size > MAX_READ_BYTES) throw tooBig(relPath, info.size);
      const buffer = await readFile(file, { signal });
      if (buffer.length > MAX_READ_BYTES) throw tooBig(relPath, buffer.length); // grew since stat
      return { path: workspace.relative(file), content: decodeUtf8(buffer, relPath), bytes: buffer.length };
    } catch (err) {
      throw fsFailure(err, relPath);
    }
  },
});

function tooBig(relPath: string, bytes: number): ToolFailure {
  return new ToolFailure(`File "${relPath}" is ${bytes} bytes; read_file accepts at most ${MAX_READ_BYTES} bytes`);
}

function decodeUtf8(buffer: Buffer, relPath: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(buffer);
  } catch {
    throw new ToolFailure(`File "${relPath}" is not valid UTF-8 text (is it a binary file?)`);
  }
}
