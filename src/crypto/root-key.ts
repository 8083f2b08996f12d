import { hkdfSync, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { KEY_BYTES, openFromBuffer, sealToBuffer } from './aead.js';

/**
 * Where the root key comes from, in order of precedence: COFFER_ROOT_KEY (base64), an explicit key file,
 * or the default key file beside the data, created on first start. The root key is never written to the
 * database; only a check value sealed under it is, so a wrong key is detected before anything changes.
 */
export type RootKeySource =
  | { kind: 'env'; base64: string }
  | { kind: 'file'; path: string; createIfMissing: boolean };

export class RootKeyError extends Error {
  override name = 'RootKeyError';
}

export type LoadedRootKey = { key: Buffer; created: boolean; description: string };

export function loadRootKey(source: RootKeySource): LoadedRootKey {
  if (source.kind === 'env') {
    return { key: decodeRootKey(source.base64, 'COFFER_ROOT_KEY'), created: false, description: 'COFFER_ROOT_KEY' };
  }
  if (existsSync(source.path)) {
    const text = readFileSync(source.path, 'utf8').trim();
    return { key: decodeRootKey(text, source.path), created: false, description: source.path };
  }
  if (!source.createIfMissing) {
    throw new RootKeyError(`root key file ${source.path} does not exist`);
  }
  const key = randomBytes(KEY_BYTES);
  try {
    // 0600 because it is the key to everything; 'wx' so that of two processes starting together one creates it.
    writeFileSync(source.path, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    key.fill(0);
    return loadRootKey({ ...source, createIfMissing: false });
  }
  return { key, created: true, description: source.path };
}

function decodeRootKey(base64: string, where: string): Buffer {
  const key = Buffer.from(base64, 'base64');
  if (key.length !== KEY_BYTES || key.toString('base64') !== base64.trim()) {
    throw new RootKeyError(`${where} must hold exactly ${KEY_BYTES} bytes, base64-encoded`);
  }
  return key;
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
const AUDIT_ANCHOR_KEY_INFO = 'coffer:audit-anchor-mac:v1';

/**
 * The key that signs audit chain anchors (HMAC-SHA-256, store/audit-anchor.ts): HKDF-SHA-256 of the root key,
 * so an anchor cannot be forged without the root key, and the key that signs anchors opens nothing.
 */
export function deriveAuditAnchorKey(rootKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', rootKey, Buffer.alloc(0), AUDIT_ANCHOR_KEY_INFO, 32));
}
