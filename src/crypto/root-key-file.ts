import { readFileSync } from 'node:fs';
import { randomBytes, scryptSync } from 'node:crypto';
import { replaceFileDurably, writeFileDurably } from '../core/index.js';
import { KEY_BYTES, openFromBuffer, sealToBuffer } from './aead.js';

/**
 * What a root key file holds. Three forms:
 * - plain: the key itself, base64 on one line (the form a first start writes);
 * - passphrase: the key sealed (AES-256-GCM) under a key derived from a passphrase with scrypt; the salt and the
 *   scrypt parameters sit in the file beside it (they are not secret);
 * - shares: no key at all, only "this deployment's root key is split into N shares, K of which open it": the
 *   server starts sealed and waits for `coffer unseal`.
 */
export type RootKeyFile =
  | { kind: 'plain'; key: Buffer }
  | { kind: 'passphrase'; protected: ProtectedRootKey }
  | { kind: 'shares'; threshold: number; shares: number };

export type ScryptParameters = { N: number; r: number; p: number };
export type ProtectedRootKey = { kdf: 'scrypt'; params: ScryptParameters; salt: Buffer; sealedKey: Buffer };

/**
 * scrypt N = 2^16, r = 8, p = 1: 128 · N · r = 64 MiB of memory per derivation, the floor OWASP gives for scrypt
 * and what makes each guess cost a GPU or ASIC real memory, while one start spends ~0.2 s on it. p = 1 because
 * parallelism adds nothing against an attacker who has cores to spare.
 */
export const SCRYPT_PARAMETERS: ScryptParameters = { N: 2 ** 16, r: 8, p: 1 };
/** Refused below this when a file is read: a file edited to weaken its KDF must not be accepted silently. */
const MIN_SCRYPT_MEMORY_BYTES = 64 * 1024 * 1024;
const SALT_BYTES = 16;
const FILE_MARKER = 'coffer-root-key';

export class RootKeyFileError extends Error {
  override name = 'RootKeyFileError';
}

/** The passphrase does not open the file (GCM's tag did not verify): nothing else was touched. */
export class WrongPassphraseError extends RootKeyFileError {
  override name = 'WrongPassphraseError';
}

export function parseRootKeyFile(text: string, where: string): RootKeyFile {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{')) return { kind: 'plain', key: decodePlainKey(trimmed, where) };
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(trimmed) as Record<string, unknown>;
  } catch {
    throw new RootKeyFileError(`${where} is neither a base64 root key nor a Coffer root key file`);
  }
  if (parsed.format !== FILE_MARKER || parsed.version !== 1) throw new RootKeyFileError(`${where} is not a version 1 Coffer root key file`);
  if (parsed.kind === 'shares') {
    const { threshold, shares } = parsed;
    if (!isCount(threshold) || !isCount(shares) || threshold > shares) throw new RootKeyFileError(`${where}: threshold and shares must be whole numbers, 2 ≤ threshold ≤ shares ≤ 255`);
    return { kind: 'shares', threshold, shares };
  }
  if (parsed.kind === 'passphrase' && parsed.kdf === 'scrypt') {
    const params = parsed.params as ScryptParameters | undefined;
    const salt = Buffer.from(String(parsed.salt ?? ''), 'base64');
    const sealedKey = Buffer.from(String(parsed.sealedKey ?? ''), 'base64');
    if (!params || !Number.isInteger(params.N) || !Number.isInteger(params.r) || !Number.isInteger(params.p) || 128 * params.N * params.r < MIN_SCRYPT_MEMORY_BYTES || salt.length < SALT_BYTES) {
      throw new RootKeyFileError(`${where}: scrypt parameters below 64 MiB or a salt under ${SALT_BYTES} bytes are refused`);
    }
    return { kind: 'passphrase', protected: { kdf: 'scrypt', params: { N: params.N, r: params.r, p: params.p }, salt, sealedKey } };
  }
  throw new RootKeyFileError(`${where}: unknown root key file kind`);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 2 && value <= 255;
}

export function decodePlainKey(base64: string, where: string): Buffer {
  const key = Buffer.from(base64, 'base64');
  if (key.length !== KEY_BYTES || key.toString('base64') !== base64.trim()) {
    throw new RootKeyFileError(`${where} must hold exactly ${KEY_BYTES} bytes, base64-encoded`);
  }
  return key;
}

/** The AAD binds the sealed key to its KDF and parameters: a file edited to other parameters does not open. */
function protectionAad(params: ScryptParameters, salt: Buffer): Buffer {
  return Buffer.from(`${FILE_MARKER}:passphrase:scrypt:${params.N}:${params.r}:${params.p}:${salt.toString('base64')}`);
}

function passphraseKey(passphrase: string, params: ScryptParameters, salt: Buffer): Buffer {
  if (passphrase.length === 0) throw new RootKeyFileError('the passphrase is empty');
  return scryptSync(passphrase.normalize('NFC'), salt, KEY_BYTES, { ...params, maxmem: 256 * params.N * params.r + 16 * 1024 * 1024 });
}

export function protectRootKey(rootKey: Buffer, passphrase: string, params: ScryptParameters = SCRYPT_PARAMETERS): ProtectedRootKey {
  const salt = randomBytes(SALT_BYTES);
  const kek = passphraseKey(passphrase, params, salt);
  try {
    return { kdf: 'scrypt', params, salt, sealedKey: sealToBuffer(kek, rootKey, protectionAad(params, salt)) };
  } finally {
    kek.fill(0);
  }
}

/** The root key inside a passphrase-protected file; WrongPassphraseError when the passphrase does not open it. */
export function unprotectRootKey(file: ProtectedRootKey, passphrase: string): Buffer {
  const kek = passphraseKey(passphrase, file.params, file.salt);
  try {
    const key = openFromBuffer(kek, file.sealedKey, protectionAad(file.params, file.salt));
    if (!key || key.length !== KEY_BYTES) throw new WrongPassphraseError('the passphrase does not open the root key file');
    return key;
  } finally {
    kek.fill(0);
  }
}

export function rootKeyFileText(file: RootKeyFile): string {
  switch (file.kind) {
    case 'plain':
      return file.key.toString('base64') + '\n';
    case 'shares':
      return JSON.stringify({ format: FILE_MARKER, version: 1, kind: 'shares', threshold: file.threshold, shares: file.shares }) + '\n';
    case 'passphrase': {
      const { params, salt, sealedKey } = file.protected;
      return JSON.stringify({ format: FILE_MARKER, version: 1, kind: 'passphrase', kdf: 'scrypt', params, salt: salt.toString('base64'), sealedKey: sealedKey.toString('base64') }) + '\n';
    }
  }
}

export function readRootKeyFile(path: string): RootKeyFile {
  return parseRootKeyFile(readFileSync(path, 'utf8'), path);
}

/**
 * Replaces a key file as one step: the new content goes to a temporary file beside it (0600, a name of its own, as
 * nodes sharing one key file may rewrite it together), is flushed to disk, then renamed over the old file, so a
 * crash leaves either the old file or the new one, never half of one.
 */
export function replaceRootKeyFile(path: string, text: string): void {
  replaceFileDurably(path, text, `${path}.${process.pid}.${randomBytes(4).toString('hex')}.new`);
}

/**
 * Writes a new key file (0600; exclusive, so that of two processes starting together one creates it and the other
 * gets EEXIST), durable before anything is sealed under the key: a power loss after the first start cannot
 * leave a database whose key is gone.
 */
export function createRootKeyFile(path: string, text: string): void {
  writeFileDurably(path, text, { exclusive: true });
}
