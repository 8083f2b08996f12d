import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { verifyChain, type VerifyResult } from '../audit/index.js';
import { SqliteStore, type AuditEventRecord } from '../store/index.js';

export type AuditLog = {
  /** Walks the hash chain from the first event; names the first broken one. */
  verify(): Promise<VerifyResult>;
  /** Newest first, across every account. */
  list(filter: { eventName?: string; limit: number }): Promise<AuditEventRecord[]>;
  close(): Promise<void>;
};

/**
 * The audit log of a data dir, opened locally for `coffer audit`: no root key and no server needed, since
 * audit events are not encrypted (they hold no secret values). Only reads, after the schema is brought up to
 * date (what starting the server does too).
 */
export async function openAuditLog(dataDir: string): Promise<AuditLog> {
  const databasePath = join(dataDir, 'coffer.db');
  if (!existsSync(databasePath)) throw new Error(`${dataDir} holds no Coffer database (${databasePath} does not exist)`);
  const store = new SqliteStore(databasePath);
  try {
    store.migrate();
  } catch (error) {
    store.close();
    throw error;
  }
  return {
    verify: () => verifyChain((afterSequence, limit) => store.listAuditEvents(afterSequence, limit)),
    list: (filter) =>
      store.lookupAuditEvents({
        accountId: undefined,
        attribute: filter.eventName === undefined ? undefined : { key: 'EventName', value: filter.eventName },
        limit: filter.limit,
      }),
    async close() {
      store.close();
    },
  };
}
