import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../core/index.js';
import { loadRootKey, protectRootKey, readRootKeyFile, replaceRootKeyFile, RootKeyError, rootKeyFileText, type LoadedRootKey, type RootKeySource } from '../crypto/index.js';
import type { CofferConfig } from './config.js';
import type { RekeyTarget } from './rekey-record.js';

export { ROOT_KEY_CHECK } from './rekey-record.js';

type RootKeyConfig = Pick<CofferConfig, 'dataDir' | 'rootKeyBase64' | 'rootKeyFile' | 'rootPassphrase' | 'unsealedRootKey'>;

/** The key file a node reads (and a rekey rewrites): --root-key-file, or `<data-dir>/root.key`. */
export function rootKeyFilePath(config: Pick<CofferConfig, 'dataDir' | 'rootKeyFile'>): string {
  return config.rootKeyFile ?? join(config.dataDir, 'root.key');
}

function rootKeySource(config: RootKeyConfig, dataDirIsNew: boolean): RootKeySource {
  if (config.rootKeyBase64 !== undefined) return { kind: 'env', base64: config.rootKeyBase64 };
  if (config.unsealedRootKey !== undefined) return { kind: 'unsealed', key: config.unsealedRootKey };
  // Never invent a root key for a data dir that already holds data: that data would be unreadable.
  return { kind: 'file', path: rootKeyFilePath(config), createIfMissing: dataDirIsNew, passphrase: config.rootPassphrase };
}

/** loadRootKey, with a message that says what to do when an existing data dir's key file is gone. */
export function loadRootKeyFor(config: RootKeyConfig, dataDirIsNew: boolean, holder = `the data dir ${config.dataDir}`): LoadedRootKey {
  const source = rootKeySource(config, dataDirIsNew);
  if (source.kind === 'unsealed' && dataDirIsNew) throw new RootKeyError(`${holder} holds no data yet: shares unseal an existing deployment only`);
  if (source.kind === 'file' && !source.createIfMissing && !existsSync(source.path)) {
    throw new RootKeyError(
      `${holder} holds data, but its root key file ${source.path} does not exist. ` +
        'Restore the root key from your backup (or give it with --root-key-file or COFFER_ROOT_KEY); ' +
        'without it the keys and secrets in it cannot be decrypted.',
    );
  }
  return loadRootKey(source);
}

/** Whether this node's key file is passphrase-protected (so the CLI knows to ask for the passphrase). */
export function rootKeyNeedsPassphrase(config: Pick<CofferConfig, 'dataDir' | 'rootKeyFile' | 'rootKeyBase64'>): boolean {
  if (config.rootKeyBase64 !== undefined) return false;
  const path = rootKeyFilePath(config);
  try {
    return existsSync(path) && readRootKeyFile(path).kind === 'passphrase';
  } catch {
    return false;
  }
}

/** Whether this node's root key is kept as shares: its key file says so (the server then starts sealed). */
export function rootKeyIsShared(config: Pick<CofferConfig, 'dataDir' | 'rootKeyFile' | 'rootKeyBase64'>): { threshold: number; shares: number } | undefined {
  if (config.rootKeyBase64 !== undefined) return undefined;
  const path = rootKeyFilePath(config);
  if (!existsSync(path)) return undefined;
  try {
    const file = readRootKeyFile(path);
    return file.kind === 'shares' ? { threshold: file.threshold, shares: file.shares } : undefined;
  } catch {
    return undefined; // a malformed file is reported by the start that reads it
  }
}

/**
 * Keeps the new root key of a rekey where this node found the old one, so that it restarts with the new key:
 * a plain key file gets the new key, a passphrase-protected one the new key under the same passphrase (new salt),
 * and with target shares the file becomes the shares marker (the key itself is then on no disk). A key from
 * COFFER_ROOT_KEY cannot be rewritten from here: the operator is told to change it. Written atomically, 0600.
 */
export function keepRotatedRootKey(config: RootKeyConfig, newKey: Buffer, target: RekeyTarget, logger: Logger): void {
  if (config.rootKeyBase64 !== undefined) {
    logger.warn('root key rotated: COFFER_ROOT_KEY still holds the old root key, which stops working when the rekey finishes; set it to the new key before this node restarts');
    return;
  }
  const path = rootKeyFilePath(config);
  if (target.kind === 'shares') {
    replaceRootKeyFile(path, rootKeyFileText({ kind: 'shares', shares: target.shares, threshold: target.threshold }));
    return;
  }
  const current = existsSync(path) ? readRootKeyFile(path) : undefined;
  if (current?.kind === 'shares') return; // the new shares were handed out by `coffer rekey`; nothing is on disk
  if (current?.kind === 'passphrase') {
    if (config.rootPassphrase === undefined) throw new RootKeyError(`${path} is passphrase-protected and this node was started without the passphrase`);
    replaceRootKeyFile(path, rootKeyFileText({ kind: 'passphrase', protected: protectRootKey(newKey, config.rootPassphrase) }));
    return;
  }
  replaceRootKeyFile(path, rootKeyFileText({ kind: 'plain', key: newKey }));
}
