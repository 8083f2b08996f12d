import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Files that must survive a power loss once written (key files, audit archives, backups): the data flushed
 * before the call returns, and the directory entry of a new or renamed file flushed too, since a file's fsync
 * alone does not make its name durable.
 */

/**
 * Writes `data` to a new file at `path`, mode 0600, flushed; a failed write removes the file. `exclusive`: EEXIST
 * if the file exists.
 */
export function writeFileDurably(path: string, data: string | Uint8Array, options: { exclusive?: boolean } = {}): void {
  const fd = openSync(path, options.exclusive ? 'wx' : 'w', 0o600);
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    for (let offset = 0; offset < bytes.length; ) offset += writeSync(fd, bytes, offset);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(path, { force: true }); // a partial file is never left to be read as a whole one
    throw error;
  }
  closeSync(fd);
}

/**
 * Replaces `path` in one step: `data` goes to `temporary` beside it, flushed, renamed over `path`, the directory
 * flushed. A failure leaves `path` as it was and removes the temporary file. `exclusive`: the temporary file must
 * not exist yet (a random name: nothing else's file is ever reused); without it a leftover of a crash is replaced.
 */
export function replaceFileDurably(
  path: string,
  data: string | Uint8Array,
  temporary: string,
  options: { exclusive?: boolean } = {},
): void {
  writeFileDurably(temporary, data, options);
  try {
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
  fsyncDirectory(dirname(path));
}

/** Flushes a directory, so that the files created or renamed in it keep their names after a power loss. */
export function fsyncDirectory(directory: string): void {
  const fd = openSync(directory, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
