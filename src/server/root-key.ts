import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadRootKey, RootKeyError, rootKeyMatches, type LoadedRootKey, type RootKeySource } from '../crypto/index.js';
import type { MetaRepository } from '../store/index.js';
import type { CofferConfig } from './config.js';

/** The meta row holding a check value of the root key (never the key): a start with another key is refused. */
export const ROOT_KEY_CHECK = 'root_key_check';

function rootKeySource(config: CofferConfig, dataDirIsNew: boolean): RootKeySource {
  if (config.rootKeyBase64 !== undefined) return { kind: 'env', base64: config.rootKeyBase64 };
  if (config.rootKeyFile !== undefined) return { kind: 'file', path: config.rootKeyFile, createIfMissing: dataDirIsNew };
  // Never invent a root key for a data dir that already holds data: that data would be unreadable.
  return { kind: 'file', path: join(config.dataDir, 'root.key'), createIfMissing: dataDirIsNew };
}

/** loadRootKey, with a message that says what to do when an existing data dir's key file is gone. */
export function loadRootKeyFor(config: CofferConfig, dataDirIsNew: boolean, holder = `the data dir ${config.dataDir}`): LoadedRootKey {
  const source = rootKeySource(config, dataDirIsNew);
  if (source.kind === 'file' && !source.createIfMissing && !existsSync(source.path)) {
    throw new RootKeyError(
      `${holder} holds data, but its root key file ${source.path} does not exist. ` +
        'Restore the root key from your backup (or give it with --root-key-file or COFFER_ROOT_KEY); ' +
        'without it the keys and secrets in it cannot be decrypted.',
    );
  }
  return loadRootKey(source);
}

export async function verifyRootKey(store: Pick<MetaRepository, 'getMeta'>, rootKey: Buffer, dataDir: string): Promise<void> {
  const check = await store.getMeta(ROOT_KEY_CHECK);
  if (check && !rootKeyMatches(rootKey, check)) {
    throw new RootKeyError(`the root key does not match the data in ${dataDir}; start with the root key this data dir was created with`);
  }
}

