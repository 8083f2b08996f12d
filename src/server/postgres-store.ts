import { rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { AwsError, createLogger, type Logger } from '../core/index.js';
import { makeRootKeyCheck, RootKeyError, rootKeyMatches, type LoadedRootKey } from '../crypto/index.js';
import { PostgresStore } from '../store/postgres/index.js';
import { auditAnchoringFor } from './audit-anchoring.js';
import type { CofferConfig, PostgresConfig, ServerStore } from './config.js';
import { describeUrl } from './store-url.js';
import { loadRootKeyFor, ROOT_KEY_CHECK } from './root-key.js';
import { settleRootKeys, zeroSettledKeys } from './rekey-record.js';


const DEFAULT_STARTUP_WAIT_MS = 60_000;

/**
 * Opens the PostgreSQL store for a node: waits for the database (backoff, a log line per attempt), migrates
 * (once, however many nodes start together), then settles the root key against the database's check value.
 * The first node on an empty database may create the root key file (as a new data dir does); every later node
 * must bring the same key. Two nodes racing on an empty database with different keys: the check value is put
 * if absent, so one wins and the other refuses to start, removing the key file it had just created.
 */
export async function openPostgresStore(config: CofferConfig, postgres: PostgresConfig): Promise<{ store: ServerStore; rootKey: LoadedRootKey }> {
  const logger = config.logger ?? createLogger();
  const store = new PostgresStore({
    connectionString: postgres.url,
    poolSize: postgres.poolSize,
    statementTimeoutMs: postgres.statementTimeoutMs,
    readCacheMaxAgeMs: postgres.readCacheMaxAgeMs,
    readCacheMaxBytes: config.readCacheMaxBytes,
  });
  let rootKey: LoadedRootKey | undefined;
  try {
    await migrateWhenReachable(store, postgres, logger);
    const check = await store.getMeta(ROOT_KEY_CHECK);
    rootKey = loadRootKeyFor(config, check === undefined, `the database ${describeUrl(postgres.url)}`);
    // A key that is neither the data's nor one of a rekey in progress is refused here (rekey-record.ts).
    if (check) zeroSettledKeys(await settleRootKeys(store, rootKey.key, describeUrl(postgres.url)));
    const stored = await store.putMetaIfAbsent(ROOT_KEY_CHECK, makeRootKeyCheck(rootKey.key));
    if (!check && !rootKeyMatches(rootKey.key, stored)) throw wrongRootKey(postgres.url);
    // Anchoring is set up only by servers; local commands (coffer accounts) open the store without it.
    if (config.auditWriterAtOpen) await store.startAuditWriter(auditAnchoringFor(config, rootKey.key));
  } catch (error) {
    await store.close();
    // A key file this start created for a database another node has claimed would only mislead.
    if (rootKey?.created) rmSync(rootKey.description, { force: true });
    rootKey?.key.fill(0);
    throw error;
  }
  return { store, rootKey };
}

function wrongRootKey(url: string): RootKeyError {
  return new RootKeyError(`the root key does not match the data in ${describeUrl(url)}; start every node with the root key the database was created with`);
}

/** Migrations, retried with backoff while the database cannot be reached (not when it answers with an error). */
async function migrateWhenReachable(store: PostgresStore, postgres: PostgresConfig, logger: Logger): Promise<void> {
  const deadline = Date.now() + (postgres.startupWaitMs ?? DEFAULT_STARTUP_WAIT_MS);
  for (let attempt = 1; ; attempt++) {
    try {
      return await store.migrate();
    } catch (error) {
      if (!isUnreachableStore(error) || Date.now() >= deadline) throw error;
      const delayMs = Math.min(5_000, 250 * 2 ** attempt);
      logger.warn('database unreachable, retrying', { database: describeUrl(postgres.url), attempt, retryInMs: delayMs, error: errorText(error) });
      await sleep(delayMs);
    }
  }
}


function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** migrate() reports an unreachable database as the 503 every store call gives (store/postgres/unavailable.ts). */
function isUnreachableStore(error: unknown): boolean {
  return error instanceof AwsError && error.code === 'ServiceUnavailable';
}
