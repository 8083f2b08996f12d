import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkAnchors, verifyAuditArchives, verifyChain, type AnchorCheck, type VerifyResult } from '../audit/index.js';
import { archiveFileNames } from './audit-retention.js';
import { loadRootKey, RootKeyError, rootKeyMatches, type RootKeySource } from '../crypto/index.js';
import { parseAnchorLine, type AuditEventRecord } from '../store/index.js';
import { PostgresStore } from '../store/postgres/index.js';
import { SqliteStore } from '../store/sqlite/index.js';
import { describeUrl } from './store-url.js';
import { anchorKeysOf } from './retired-anchor-keys.js';

/** What verify() found of the events that left the database for archive files (audit retention). */
export type ArchivedPart = {
  /** Events up to this sequence are not in the database. */
  through: number;
  /** Whether archive files were read and verified (--archive), or the database's chain begins after them unchecked. */
  checked: boolean;
  files: number;
  /** The archived hashes of the sequences verify() was asked about (anchors that name archived events). */
  hashes: Map<number, string>;
};

export type AuditLog = {
  /**
   * Walks the hash chain and names the first broken event: from the archive files of `archiveDir` (from event
   * 1, each file following the previous one's digest) on into the database; without `archiveDir`, from the
   * database's first event (events archived by retention before it are not checked).
   */
  verify(options?: { archiveDir?: string; anchorFile?: string }): Promise<VerifyResult & { archived?: ArchivedPart }>;
  /**
   * Checks the log against the anchor file (its MACs under the root key's anchor key, and every anchored event
   * still stored with its hash, or archived with it); `headSequence` is the newest event verify() found.
   */
  verifyAnchors(anchorFile: string, rootKey: RootKeySource, headSequence: number, archived?: ArchivedPart): Promise<AnchorCheck>;
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
    async verify(options = {}) {
      const list = (afterSequence: number, limit: number) => store.listAuditEvents(afterSequence, limit);
      const [first] = await list(0, 1);
      if (options.archiveDir === undefined) {
        // The database's chain begins where retention left it: from its first event's link to the one before.
        const start = first && first.sequence > 1 ? { sequence: first.sequence - 1, hash: first.prevHash } : undefined;
        const result = await verifyChain(list, 500, start);
        return start ? { ...result, archived: { through: start.sequence, checked: false, files: 0, hashes: new Map() } } : result;
      }
      const archiveDir = options.archiveDir;
      const hashes = new Map<number, string>();
      const wanted = anchoredSequences(options.anchorFile);
      const names = archiveFileNames(archiveDir);
      const archive = verifyAuditArchives(names, (name) => readFileSync(join(archiveDir, name)), (event) => {
        if (wanted.has(event.sequence)) hashes.set(event.sequence, event.hash);
      });
      if (!archive.intact) return { intact: false, events: archive.events, brokenSequence: 0, reason: `archive broken: ${archive.reason}` };
      const result = await verifyChain(list, 500, archive.end);
      const archived = { through: archive.end.sequence, checked: true, files: archive.files, hashes };
      return { ...result, events: result.events + archive.events, archived };
    },
    async verifyAnchors(anchorFile, rootKeySource, headSequence, archived) {
      const rootKey = loadRootKey(rootKeySource).key;
      try {
        const check = await store.getMeta('root_key_check');
        if (check && !rootKeyMatches(rootKey, check)) throw new RootKeyError(`the root key does not match the data in ${where}`);
        const lines = existsSync(anchorFile) ? readFileSync(anchorFile, 'utf8').split('\n') : [];
        const hashAt = async (sequence: number) => {
          const [record] = await store.listAuditEvents(sequence - 1, 1);
          return record?.sequence === sequence ? record.hash : archived?.hashes.get(sequence);
        };
        return await checkAnchors(lines, await anchorKeysOf(store, rootKey), hashAt, headSequence, archived?.through ?? 0);
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

/** The sequences an anchor file names: verify keeps the archived hashes of these for the anchors' check. */
function anchoredSequences(anchorFile: string | undefined): Set<number> {
  if (!anchorFile || !existsSync(anchorFile)) return new Set();
  const sequences = readFileSync(anchorFile, 'utf8').split('\n').map((line) => parseAnchorLine(line)?.sequence);
  return new Set(sequences.filter((sequence) => sequence !== undefined));
}

function openSqliteStore(dataDir: string): SqliteStore {
  const databasePath = join(dataDir, 'coffer.db');
  if (!existsSync(databasePath)) throw new Error(`${dataDir} holds no Coffer database (${databasePath} does not exist)`);
  return new SqliteStore(databasePath);
}
