import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';
import { lambdaError } from './errors.js';

/** Lambda's limits on a deployment package. https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html */
export const MAX_ZIP_BYTES = 50 * 1024 * 1024;
export const MAX_UNZIPPED_BYTES = 262_144_000;
const MAX_ENTRIES = 20_000;

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;

export type ZipSummary = { codeSha256: string; codeSize: number };

/** Base64 SHA-256 of the package, as Lambda reports CodeSha256. */
export function codeSha256(zip: Buffer): string {
  return createHash('sha256').update(zip).digest('base64');
}

function badZip(): Error {
  return lambdaError('InvalidParameterValueException', 'Could not unzip uploaded file. Please check your file, then try to upload again.');
}

/**
 * Checks a package before it is stored: a readable zip, within Lambda's limits, whose entries are plain
 * files and directories that stay inside the directory they are unpacked to.
 */
export async function checkZip(zip: Buffer): Promise<ZipSummary> {
  if (zip.length > MAX_ZIP_BYTES) {
    throw lambdaError('RequestTooLargeException', `The deployment package must be smaller than ${MAX_ZIP_BYTES} bytes.`);
  }
  let declared = 0;
  let file: yauzl.ZipFile;
  try {
    file = await yauzl.fromBufferPromise(zip, { lazyEntries: true, strictFileNames: false, validateEntrySizes: true });
  } catch {
    throw badZip();
  }
  if (file.entryCount > MAX_ENTRIES) throw badZip();
  try {
    for await (const entry of file.eachEntry()) {
      checkEntry(entry);
      declared += entry.uncompressedSize;
      if (declared > MAX_UNZIPPED_BYTES) {
        throw lambdaError('InvalidParameterValueException', `Unzipped size must be smaller than ${MAX_UNZIPPED_BYTES} bytes`);
      }
    }
  } catch (error) {
    throw error instanceof Error && error.name === 'InvalidParameterValueException' ? error : badZip();
  } finally {
    file.close();
  }
  return { codeSha256: codeSha256(zip), codeSize: zip.length };
}

/**
 * Unpacks a package into `targetDir` (which must not exist yet or be empty). Every entry is checked again,
 * because the store is not trusted: a path that leaves the directory, a symbolic link or more bytes than the
 * limit stop the extraction.
 */
export async function extractZip(zip: Buffer, targetDir: string): Promise<void> {
  const root = resolve(targetDir);
  await mkdir(root, { recursive: true, mode: 0o700 });
  const file = await yauzl.fromBufferPromise(zip, { lazyEntries: true, strictFileNames: false, validateEntrySizes: true });
  let written = 0;
  const counter = () =>
    new Transform({
      transform(chunk: Buffer, _encoding, done) {
        written += chunk.length;
        if (written > MAX_UNZIPPED_BYTES) done(new Error('the package unpacks to more than the limit'));
        else done(null, chunk);
      },
    });
  try {
    for await (const entry of file.eachEntry()) {
      checkEntry(entry);
      const target = resolve(root, entry.fileName);
      if (target !== root && !target.startsWith(root + sep)) throw new Error(`zip entry escapes the target directory: ${entry.fileName}`);
      if (entry.fileName.endsWith('/')) {
        await mkdir(target, { recursive: true, mode: 0o755 });
        continue;
      }
      await mkdir(dirname(target), { recursive: true, mode: 0o755 });
      const stream = await file.openReadStreamPromise(entry);
      await pipeline(stream, counter(), createWriteStream(target, { flags: 'wx', mode: executable(entry) ? 0o755 : 0o644 }));
    }
  } finally {
    file.close();
  }
}

function checkEntry(entry: yauzl.Entry): void {
  const mode = (entry.externalFileAttributes >>> 16) & S_IFMT;
  if (mode === S_IFLNK) throw new Error(`zip entry is a symbolic link: ${entry.fileName}`);
  if (entry.isEncrypted()) throw new Error(`zip entry is encrypted: ${entry.fileName}`);
  const name = entry.fileName;
  if (name.startsWith('/') || /^[a-zA-Z]:/.test(name) || name.split('/').includes('..') || name.includes('\0')) {
    throw new Error(`zip entry escapes the target directory: ${name}`);
  }
}

function executable(entry: yauzl.Entry): boolean {
  return ((entry.externalFileAttributes >>> 16) & 0o111) !== 0;
}
