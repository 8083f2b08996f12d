import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Files that must survive a power loss once written (key files, audit archives, backups): the data flushed
 * before the call returns, and the directory entry of a new or renamed file flushed too, since a file's fsync
 * alone does not make its name durable.
 */

/** Writes `data` to a new file at `path`, mode 0600, flushed. `exclusive`: EEXIST if the file exists. */
export function writeFileDurably(path: string, data: string | Uint8Array, options: { exclusive?: boolean } = {}): void {
  const fd = openSync(path, options.exclusive ? 'wx' : 'w', 0o600);
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    for (let offset = 0; offset < bytes.length; ) offset += writeSync(fd, bytes, offset);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Replaces `path` in one step: `data` goes to `temporary` beside it, flushed, renamed over `path`, the directory flushed. */
export function replaceFileDurably(path: string, data: string | Uint8Array, temporary: string): void {
  writeFileDurably(temporary, data);
  renameSync(temporary, path);
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
