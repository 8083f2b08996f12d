import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkAnchors, verifyChain, type AnchorCheck, type VerifyResult } from '../audit/index.js';
import { loadRootKey, RootKeyError, rootKeyMatches, type RootKeySource } from '../crypto/index.js';
import type { AuditEventRecord } from '../store/index.js';
import { PostgresStore } from '../store/postgres/index.js';
import { SqliteStore } from '../store/sqlite/index.js';
import { describeUrl } from './store-url.js';
import { anchorKeysOf } from './retired-anchor-keys.js';

export type AuditLog = {
  /** Walks the hash chain from the first event; names the first broken one. */
  verify(): Promise<VerifyResult>;
  /**
   * Checks the log against the anchor file (its MACs under the root key's anchor key, and every anchored event
   * still stored with its hash); `headSequence` is the newest event verify() found.
   */
  verifyAnchors(anchorFile: string, rootKey: RootKeySource, headSequence: number): Promise<AnchorCheck>;
  /** Newest first, across every account. */
  list(filter: { eventName?: string; limit: number }): Promise<AuditEventRecord[]>;
  close(): Promise<void>;
};

/**
 * Where the audit chain is anchored unless told otherwise: beside the data dir, not in it, so that the data dir
 * (a copy, a restored backup, a volume someone else can write) does not carry its own anchors, and so that the
 * file can be given protection of its own (`chattr +a`, another mount). See docs/ARCHITECTURE.md, "Audit".
 */
export function defaultAuditAnchorFile(dataDir: string): string {
  return `${dataDir.replace(/[/\\]+$/, '')}.audit-anchors`;
}

/**
 * The audit log of a data dir, opened locally for `coffer audit`: no server needed, since audit events are not
 * encrypted (they hold no secret values); only checking anchors needs the root key. Only reads, after the
 * schema is brought up to date (what starting the server does too).
 */
export async function openAuditLog(dataDir: string, storeUrl?: string): Promise<AuditLog> {
  const store = storeUrl ? new PostgresStore({ connectionString: storeUrl, poolSize: 2 }) : openSqliteStore(dataDir);
  const where = storeUrl ? describeUrl(storeUrl) : dataDir;
  try {
    await store.migrate();
  } catch (error) {
    await store.close();
    throw error;
  }
  return {
    verify: () => verifyChain((afterSequence, limit) => store.listAuditEvents(afterSequence, limit)),
    async verifyAnchors(anchorFile, rootKeySource, headSequence) {
      const rootKey = loadRootKey(rootKeySource).key;
      try {
        const check = await store.getMeta('root_key_check');
        if (check && !rootKeyMatches(rootKey, check)) throw new RootKeyError(`the root key does not match the data in ${where}`);
        const lines = existsSync(anchorFile) ? readFileSync(anchorFile, 'utf8').split('\n') : [];
        const hashAt = async (sequence: number) => {
          const [record] = await store.listAuditEvents(sequence - 1, 1);
          return record?.sequence === sequence ? record.hash : undefined;
        };
        return await checkAnchors(lines, await anchorKeysOf(store, rootKey), hashAt, headSequence);
      } finally {
        rootKey.fill(0);
      }
    },
    list: (filter) =>
      store.lookupAuditEvents({
        accountId: undefined,
        attribute: filter.eventName === undefined ? undefined : { key: 'EventName', value: filter.eventName },
        limit: filter.limit,
      }),
    async close() {
      await store.close();
    },
  };
}

function openSqliteStore(dataDir: string): SqliteStore {
  const databasePath = join(dataDir, 'coffer.db');
  if (!existsSync(databasePath)) throw new Error(`${dataDir} holds no Coffer database (${databasePath} does not exist)`);
  return new SqliteStore(databasePath);
}
