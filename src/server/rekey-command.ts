import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { combineShares, decodeShare, KEY_BYTES, RootKeyError, rootKeyMatches, splitRootKey } from '../crypto/index.js';
import type { MetaRepository } from '../store/index.js';
import { PostgresStore } from '../store/postgres/index.js';
import { SqliteStore } from '../store/sqlite/index.js';
import type { CofferConfig } from './config.js';
import { makeRekeyRecord, parseRekeyRecord, ROOT_KEY_CHECK, ROOT_KEY_REKEY, type RekeyTarget } from './rekey-record.js';
import { loadRootKeyFor } from './root-key.js';
import { describeUrl } from './store-url.js';

/**
 * `coffer rekey`: the offline half of an online rekey. It proves it holds the current root key (the check value),
 * makes a new one, hands out the new shares (or, for COFFER_ROOT_KEY, the new key) BEFORE anything changes, and
 * then writes the rekey row; the running server(s) re-wrap and finish (rekey.ts). Whoever can read the root key
 * and write the store can start a rekey: the same authority that can start the server.
 */
export type RekeyRequest = Pick<CofferConfig, 'dataDir' | 'rootKeyFile' | 'rootKeyBase64' | 'rootPassphrase'> & {
  storeUrl?: string;
  /** The current key's shares, when it is kept as shares. */
  currentShares?: string[];
  target: RekeyTarget;
  /** Called with the new shares (or the new base64 key for COFFER_ROOT_KEY) before the rekey is recorded. */
  handOut(newKey: { shares?: string[]; base64?: string }): Promise<void>;
  now?: Date;
};

export type RekeyStarted = { where: string; newCheck: Buffer; store: Pick<MetaRepository, 'getMeta'>; close(): Promise<void> };

export async function startRekey(request: RekeyRequest): Promise<RekeyStarted> {
  const where = request.storeUrl ? describeUrl(request.storeUrl) : request.dataDir;
  const store = openStore(request);
  try {
    const check = await store.getMeta(ROOT_KEY_CHECK);
    if (!check) throw new RootKeyError(`${where} holds no Coffer data yet: start the server once first`);
    const inProgress = await store.getMeta(ROOT_KEY_REKEY);
    if (inProgress) throw new RootKeyError(`a rekey is already in progress in ${where}; a running server finishes it (or the next start does)`);
    const oldKey = await currentKey(request);
    const newKey = randomBytes(KEY_BYTES);
    try {
      if (!rootKeyMatches(oldKey, check)) throw new RootKeyError(`the root key does not match the data in ${where}; nothing was changed`);
      const shares = request.target.kind === 'shares' ? await splitRootKey(newKey, request.target.shares, request.target.threshold) : undefined;
      await request.handOut({ shares, base64: request.rootKeyBase64 !== undefined && !shares ? newKey.toString('base64') : undefined });
      const row = makeRekeyRecord(oldKey, newKey, request.target, request.now ?? new Date());
      const stored = await store.putMetaIfAbsent(ROOT_KEY_REKEY, row);
      if (!stored.equals(row)) throw new RootKeyError('another rekey was started at the same moment; the new key handed out above is void');
      return { where, newCheck: parseRekeyRecord(row).newCheck, store, close: async () => void (await store.close()) };
    } finally {
      oldKey.fill(0);
      newKey.fill(0);
    }
  } catch (error) {
    await store.close();
    throw error;
  }
}

/** Waits until the rekey row is gone and the check value is the new key's: true when finished within `timeoutMs`. */
export async function waitForRekey(started: RekeyStarted, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [row, check] = [await started.store.getMeta(ROOT_KEY_REKEY), await started.store.getMeta(ROOT_KEY_CHECK)];
    if (!row && check?.equals(started.newCheck)) return true;
    if (Date.now() >= deadline) return false;
    await sleep(250);
  }
}

async function currentKey(request: RekeyRequest): Promise<Buffer> {
  if (!request.currentShares) return loadRootKeyFor(request, false).key;
  const decoded = request.currentShares.map(decodeShare);
  try {
    return await combineShares(decoded);
  } finally {
    for (const share of decoded) share.fill(0);
  }
}

function openStore(request: RekeyRequest): SqliteStore | PostgresStore {
  if (request.storeUrl) return new PostgresStore({ connectionString: request.storeUrl, poolSize: 2 });
  const databasePath = join(request.dataDir, 'coffer.db');
  if (!existsSync(databasePath)) throw new RootKeyError(`${request.dataDir} holds no Coffer database (${databasePath} does not exist)`);
  return new SqliteStore(databasePath);
}
