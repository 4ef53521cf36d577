import { ToolFailure } from './tool.js';

const REASONS: Record<string, string> = {
  ENOENT: 'does not exist',
  ENOTDIR: 'is not a directory (or a parent of it is a file)',
  EACCES: 'is not readable (permission denied)',
  EPERM: 'is not readable (operation not permitted)',
  EISDIR: 'is a directory',
  ELOOP: 'has too many levels of symbolic links',
};

/** Turns a filesystem error about `relPath` into a ToolFailure the model can act on; other errors pass through. */
export function fsFailure(err: unknown, relPath: string): unknown {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (err instanceof ToolFailure || code === undefined) return err;
  const reason = REASONS[code];
  // Transient conditions (too many open files, busy) may clear up on retry; the others will not.
  const retryable = code === 'EMFILE' || code === 'ENFILE' || code === 'EBUSY' || code === 'EAGAIN';
  return new ToolFailure(`Path "${relPath}" ${reason ?? `could not be accessed (${code})`}`, { retryable, cause: err });
}
