import { hkdfSync, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { KEY_BYTES, openFromBuffer, sealToBuffer } from './aead.js';
import {
  createRootKeyFile,
  decodePlainKey,
  protectRootKey,
  readRootKeyFile,
  RootKeyFileError,
  rootKeyFileText,
  unprotectRootKey,
  WrongPassphraseError,
  type RootKeyFile,
} from './root-key-file.js';

/**
 * Where the root key comes from, in order of precedence: COFFER_ROOT_KEY (base64), a key reconstructed from shares
 * (`coffer unseal`), an explicit key file, or the default key file beside the data, created on first start. A key
 * file is plain or passphrase-protected (root-key-file.ts); a passphrase given for a new data dir makes the created
 * file protected. The root key is never written to the database; only a check value sealed under it is, so a wrong
 * key is detected before anything changes.
 */
export type RootKeySource =
  | { kind: 'env'; base64: string }
  | { kind: 'unsealed'; key: Buffer }
  | { kind: 'file'; path: string; createIfMissing: boolean; passphrase?: string };

export class RootKeyError extends Error {
  override name = 'RootKeyError';
}

export type LoadedRootKey = { key: Buffer; created: boolean; description: string };

export function loadRootKey(source: RootKeySource): LoadedRootKey {
  if (source.kind === 'env') {
    return { key: decodeRootKey(source.base64, 'COFFER_ROOT_KEY'), created: false, description: 'COFFER_ROOT_KEY' };
  }
  if (source.kind === 'unsealed') return { key: Buffer.from(source.key), created: false, description: 'the unseal shares' };
  if (existsSync(source.path)) return { key: keyFromFile(source.path, source.passphrase), created: false, description: source.path };
  if (!source.createIfMissing) {
    throw new RootKeyError(`root key file ${source.path} does not exist`);
  }
  const key = randomBytes(KEY_BYTES);
  const file: RootKeyFile = source.passphrase === undefined ? { kind: 'plain', key } : { kind: 'passphrase', protected: protectRootKey(key, source.passphrase) };
  try {
    createRootKeyFile(source.path, rootKeyFileText(file));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    key.fill(0);
    return loadRootKey({ ...source, createIfMissing: false });
  }
  return { key, created: true, description: source.path };
}

function keyFromFile(path: string, passphrase: string | undefined): Buffer {
  let file: RootKeyFile;
  try {
    file = readRootKeyFile(path);
  } catch (error) {
    throw error instanceof RootKeyFileError ? new RootKeyError(error.message) : error;
  }
  if (file.kind === 'plain') return file.key;
  if (file.kind === 'shares') {
    throw new RootKeyError(`${path} says the root key is split into ${file.shares} shares: start the server (it starts sealed) and enter ${file.threshold} of them with \`coffer unseal\``);
  }
  if (passphrase === undefined) {
    throw new RootKeyError(`${path} is protected by a passphrase: give it with COFFER_ROOT_PASSPHRASE, --root-passphrase-file or at the prompt`);
  }
  try {
    return unprotectRootKey(file.protected, passphrase);
  } catch (error) {
    if (error instanceof WrongPassphraseError) throw new RootKeyError(`the passphrase does not open ${path}; nothing was changed`);
    throw error;
  }
}

function decodeRootKey(base64: string, where: string): Buffer {
  try {
    return decodePlainKey(base64, where);
  } catch (error) {
    throw error instanceof RootKeyFileError ? new RootKeyError(error.message) : error;
  }
}

const CHECK_AAD = Buffer.from('coffer:root-key-check:v1');
const CHECK_PLAINTEXT = Buffer.from('coffer root key check');

/** A value sealed under the root key and stored with the data, so start-up can tell the right key from a wrong one. */
export function makeRootKeyCheck(rootKey: Buffer): Buffer {
  return sealToBuffer(rootKey, CHECK_PLAINTEXT, CHECK_AAD);
}

export function rootKeyMatches(rootKey: Buffer, check: Buffer): boolean {
  const opened = openFromBuffer(rootKey, check, CHECK_AAD);
  return opened !== undefined && opened.equals(CHECK_PLAINTEXT);
}

/** HKDF's info label of the audit anchor key: a key for nothing else, whatever else is derived from the root key. */
export const AUDIT_ANCHOR_KEY_INFO = 'coffer:audit-anchor-mac:v1';

/**
 * The key that signs audit chain anchors (HMAC-SHA-256, store/audit-anchor.ts): HKDF-SHA-256 of the root key,
 * so an anchor cannot be forged without the root key, and the key that signs anchors opens nothing.
 */
export function deriveAuditAnchorKey(rootKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', rootKey, Buffer.alloc(0), AUDIT_ANCHOR_KEY_INFO, 32));
}
