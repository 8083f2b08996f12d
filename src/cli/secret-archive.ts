/**
 * @module cli
 * The file format of `coffer secrets export` / `import` (docs/ARCHITECTURE.md, "CLI for people"): an
 * authenticated header, then the secrets as JSON records in chunks, each sealed with AES-256-GCM under one
 * archive key. Pure: no SDK, no file system; the commands in commands/secrets-transfer.ts do the I/O.
 *
 *   "COFFERSECRETS" (13 bytes) | u8 format version | u32 header length | header (JSON, UTF-8)
 *   then per chunk: u32 sealed length | 12-byte nonce | ciphertext | 16-byte GCM tag
 *
 * The chunks are crypto/sealed-chunks.ts's framing (shared with `coffer backup`). Every chunk's AAD is the whole header prefix (magic to header end), the chunk's index (u32) and a final flag
 * (u8): a changed header, a reordered or spliced chunk, a chunk from another archive, or a file cut after any
 * chunk but the final one fails authentication. The header's keyCheck (an HMAC of a constant under the key)
 * tells a wrong passphrase or KMS key apart from a damaged file, without weakening the key (it is scrypt's or
 * KMS's output, 256 bits).
 */
import { createHmac, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { CHUNK_NONCE_BYTES, CHUNK_TAG_BYTES, MAX_SEALED_CHUNK_BYTES, sealChunk, unsealChunk } from '../crypto/sealed-chunks.js';

const MAGIC = Buffer.from('COFFERSECRETS', 'ascii');
export const ARCHIVE_FORMAT_VERSION = 1;
const PREFIX_LENGTH = MAGIC.length + 1 + 4;
const MAX_HEADER_BYTES = 64 * 1024;
/** Records per chunk: small enough to keep memory flat, large enough that the per-chunk cost does not matter. */
export const RECORDS_PER_CHUNK = 64;

/** scrypt at N=2^15, r=8, p=1 (OWASP's minimum for scrypt): ~32 MiB and ~100 ms per derivation. */
export const DEFAULT_SCRYPT = { N: 2 ** 15, r: 8, p: 1 } as const;

export type ArchiveKdf =
  | { name: 'scrypt'; N: number; r: number; p: number; salt: string }
  | { name: 'kms'; keyId: string; wrappedKey: string };

export type ArchiveHeader = {
  format: 'coffer-secrets-export';
  version: number;
  kdf: ArchiveKdf;
  /** Where the secrets came from (informational: importing into another account or Region is the point). */
  source: { account?: string; region?: string };
  createdAt: string;
  /** Random per archive: chunks of two archives under the same key (and same header otherwise) cannot be spliced. */
  archiveId: string;
  keyCheck: string;
};

/** One secret with the versions that carry labels, oldest first. Values: SecretString or base64 SecretBinary. */
export type SecretRecord = {
  name: string;
  description?: string;
  kmsKeyId?: string;
  tags: Array<{ Key: string; Value: string }>;
  versions: Array<{ versionId: string; stages: string[]; createdDate?: string; secretString?: string; secretBinary?: string }>;
};

/** A file that is not an intact archive for this key; the message never carries a value. */
export class ArchiveError extends Error {
  override name = 'ArchiveError';
}

export async function deriveScryptKey(passphrase: string, kdf: { N: number; r: number; p: number; salt: string }): Promise<Buffer> {
  if (![kdf.N, kdf.r, kdf.p].every((n) => Number.isSafeInteger(n) && n > 0) || kdf.N > 2 ** 22 || kdf.r > 32 || kdf.p > 16) {
    throw new ArchiveError('the archive header names scrypt parameters outside the accepted range');
  }
  return new Promise((resolve, reject) =>
    scrypt(passphrase, Buffer.from(kdf.salt, 'base64'), 32, { N: kdf.N, r: kdf.r, p: kdf.p, maxmem: 256 * kdf.N * kdf.r * kdf.p + 1024 * 1024 }, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}

export function newScryptKdf(): { name: 'scrypt'; N: number; r: number; p: number; salt: string } {
  return { name: 'scrypt', ...DEFAULT_SCRYPT, salt: randomBytes(16).toString('base64') };
}

function keyCheckOf(key: Buffer): string {
  return createHmac('sha256', key).update('coffer-secrets-export key check').digest().subarray(0, 16).toString('base64');
}

/** Writes an archive piece by piece: `begin` once, `chunk` per batch of records, the last one with final = true. */
export class ArchiveWriter {
  readonly #key: Buffer;
  readonly #headerPrefix: Buffer;
  #index = 0;
  #finished = false;

  constructor(key: Buffer, header: Omit<ArchiveHeader, 'format' | 'version' | 'keyCheck' | 'archiveId'>) {
    if (key.length !== 32) throw new Error('the archive key must be 256 bits');
    this.#key = key;
    const full: ArchiveHeader = { format: 'coffer-secrets-export', version: ARCHIVE_FORMAT_VERSION, ...header, archiveId: randomBytes(16).toString('base64'), keyCheck: keyCheckOf(key) };
    const json = Buffer.from(JSON.stringify(full), 'utf8');
    const prefix = Buffer.alloc(PREFIX_LENGTH);
    MAGIC.copy(prefix, 0);
    prefix.writeUInt8(ARCHIVE_FORMAT_VERSION, MAGIC.length);
    prefix.writeUInt32BE(json.length, MAGIC.length + 1);
    this.#headerPrefix = Buffer.concat([prefix, json]);
  }

  begin(): Buffer {
    return this.#headerPrefix;
  }

  chunk(records: SecretRecord[], final: boolean): Buffer {
    if (this.#finished) throw new Error('the archive is already finished');
    this.#finished = final;
    return sealChunk(this.#key, this.#headerPrefix, this.#index++, final, Buffer.from(JSON.stringify(records), 'utf8'));
  }
}

/** The header of an archive, checked for shape only (authentication comes with the first chunk). */
export function readArchiveHeader(file: Buffer): { header: ArchiveHeader; headerPrefix: Buffer } {
  if (file.length < PREFIX_LENGTH || !file.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new ArchiveError('not a Coffer secrets export (the file does not start with the archive magic)');
  }
  const version = file.readUInt8(MAGIC.length);
  if (version !== ARCHIVE_FORMAT_VERSION) throw new ArchiveError(`archive format version ${version} is not supported (expected ${ARCHIVE_FORMAT_VERSION})`);
  const length = file.readUInt32BE(MAGIC.length + 1);
  if (length > MAX_HEADER_BYTES || PREFIX_LENGTH + length > file.length) throw new ArchiveError('the archive header is damaged or truncated');
  let header: ArchiveHeader;
  try {
    header = JSON.parse(file.subarray(PREFIX_LENGTH, PREFIX_LENGTH + length).toString('utf8')) as ArchiveHeader;
  } catch {
    throw new ArchiveError('the archive header is damaged (not JSON)');
  }
  const kdf = header?.kdf;
  const kdfOk =
    (kdf?.name === 'scrypt' && typeof kdf.salt === 'string') || (kdf?.name === 'kms' && typeof kdf.keyId === 'string' && typeof kdf.wrappedKey === 'string');
  if (header?.format !== 'coffer-secrets-export' || header.version !== version || !kdfOk || typeof header.keyCheck !== 'string') {
    throw new ArchiveError('the archive header is damaged (unexpected fields)');
  }
  return { header, headerPrefix: file.subarray(0, PREFIX_LENGTH + length) };
}

/** Every record of an archive, or an ArchiveError before any is returned: all chunks are authenticated first. */
export function openArchive(file: Buffer, key: Buffer): { header: ArchiveHeader; records: SecretRecord[] } {
  const { header, headerPrefix } = readArchiveHeader(file);
  const expected = Buffer.from(keyCheckOf(key), 'base64');
  const stored = Buffer.from(header.keyCheck, 'base64');
  if (stored.length !== expected.length || !timingSafeEqual(stored, expected)) {
    throw new ArchiveError(header.kdf.name === 'scrypt' ? 'wrong passphrase for this archive' : 'the KMS key did not yield this archive\'s key');
  }
  const records: SecretRecord[] = [];
  let offset = headerPrefix.length;
  for (let index = 0; ; index++) {
    if (offset === file.length) throw new ArchiveError(`the archive is truncated (it ends after chunk ${index} without its final chunk)`);
    if (offset + 4 > file.length) throw new ArchiveError(`the archive is truncated inside chunk ${index}`);
    const length = file.readUInt32BE(offset);
    if (length < CHUNK_NONCE_BYTES + CHUNK_TAG_BYTES || length > MAX_SEALED_CHUNK_BYTES) throw new ArchiveError(`chunk ${index} of the archive is damaged (bad length)`);
    if (offset + 4 + length > file.length) throw new ArchiveError(`the archive is truncated inside chunk ${index}`);
    const body = file.subarray(offset + 4, offset + 4 + length);
    offset += 4 + length;
    const final = offset === file.length;
    const plain = unsealChunk(key, headerPrefix, index, final, body);
    // Not final by position but sealed as final (data appended), or the reverse (cut): the tag fails either way.
    if (plain === undefined) {
      throw new ArchiveError(`chunk ${index} of the archive failed authentication: the file was altered, reordered or truncated`);
    }
    let batch: SecretRecord[];
    try {
      batch = JSON.parse(plain.toString('utf8')) as SecretRecord[];
    } catch {
      throw new ArchiveError(`chunk ${index} of the archive holds no records`);
    }
    if (!Array.isArray(batch)) throw new ArchiveError(`chunk ${index} of the archive holds no records`);
    records.push(...batch);
    if (final) return { header, records };
  }
}
