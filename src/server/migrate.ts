import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  digestTable,
  TableDigester,
  TargetNotEmptyError,
  TRANSFER_CATALOG,
  type StoreTransfer,
  type TableDigest,
  type TransferSnapshot,
} from '../store/index.js';
import { PostgresStore } from '../store/postgres/index.js';
import { SqliteStore } from '../store/sqlite/index.js';
import { describeUrl } from './store-url.js';

/**
 * `coffer migrate`: copies a whole deployment's database from one store to another (SQLite data dir ⇄
 * PostgreSQL, or either to its own kind), then verifies the copy. Each backend reads and writes the
 * backend-neutral rows of store/transfer.ts; this module only drives: open both, refuse a target holding data,
 * migrate the target's schema, copy every table in the catalog's order inside one snapshot of the source and
 * one transaction of the target, then read the target back and compare row counts and SHA-256s (of every
 * sealed blob column, and of every row) table by table.
 *
 * The root key is not needed: sealed values travel sealed. Nor is it copied (it is never in the database).
 */

export type StoreLocation = { kind: 'sqlite'; dataDir: string } | { kind: 'postgres'; url: string };

/** A value starting with postgres:// or postgresql:// is a PostgreSQL URL; anything else a data dir. */
export function parseStoreLocation(value: string): StoreLocation {
  return /^postgres(ql)?:\/\//i.test(value) ? { kind: 'postgres', url: value } : { kind: 'sqlite', dataDir: resolve(value) };
}

/** For messages: the data dir, or the URL without its password. */
export function describeLocation(location: StoreLocation): string {
  return location.kind === 'sqlite' ? location.dataDir : describeUrl(location.url);
}

export type MigrateProgress =
  | { phase: 'copy'; table: string; copied: number; total: number }
  | { phase: 'verify'; table: string; tableIndex: number; tables: number };

export type MigrateOptions = {
  from: string;
  to: string;
  /** Rows read and written at a time (default 500). */
  pageSize?: number;
  onProgress?: (progress: MigrateProgress) => void;
};

/** What was copied (the source's digests, which the target's matched). */
export type MigrateReport = { from: StoreLocation; to: StoreLocation; tables: TableDigest[] };

/** The copy was not started, and nothing was changed: a bad location, a missing source, a non-empty target. */
export class MigrateRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MigrateRefusedError';
  }
}

export type DigestMismatch = { table: string; source: TableDigest; target: TableDigest };

/** The target read back differs from the source. */
export class VerificationError extends Error {
  readonly mismatches: readonly DigestMismatch[];
  constructor(mismatches: readonly DigestMismatch[]) {
    super(`the copy differs from the source in ${mismatches.map(describeMismatch).join('; ')}`);
    this.name = 'VerificationError';
    this.mismatches = mismatches;
  }
}

export const DEFAULT_PAGE_SIZE = 500;

export async function migrateStore(options: MigrateOptions): Promise<MigrateReport> {
  const { from, to } = locations(options);
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  const source = await openSource(from);
  let digests: TableDigest[];
  try {
    const target = await openTarget(to);
    try {
      digests = await source.transfer
        .readSnapshot((snapshot) => copyInto(snapshot, target.transfer, pageSize, options.onProgress))
        .catch((error: unknown) => {
          // Something wrote to the target between the first check and the load's own (inside its transaction).
          throw error instanceof TargetNotEmptyError ? new MigrateRefusedError(`${describeLocation(to)} is not empty: ${error.message}`) : error;
        });
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
  // Read back through a store opened afresh, as a server would open it: nothing of the copy's connections counts.
  const copied = await openExisting(to, 'target');
  try {
    await verifyAgainst(digests, copied.transfer, pageSize, options.onProgress);
  } finally {
    await copied.close();
  }
  return { from, to, tables: digests };
}

/**
 * Compares two stores as `coffer migrate` does after copying (counts and SHA-256s, table by table), without
 * copying: for checking a copy later. Throws VerificationError naming the tables that differ.
 */
export async function verifyStores(options: MigrateOptions): Promise<MigrateReport> {
  const { from, to } = locations(options);
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  const source = await openExisting(from, 'source');
  try {
    const target = await openExisting(to, 'target');
    try {
      const digests = await source.transfer.readSnapshot((snapshot) => digestAll(snapshot, pageSize));
      await verifyAgainst(digests, target.transfer, pageSize, options.onProgress);
      return { from, to, tables: digests };
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}

function locations(options: MigrateOptions): { from: StoreLocation; to: StoreLocation } {
  const from = parseStoreLocation(options.from);
  const to = parseStoreLocation(options.to);
  if (describeLocation(from) === describeLocation(to)) {
    throw new MigrateRefusedError(`--from and --to are the same store (${describeLocation(from)})`);
  }
  return { from, to };
}

/** Every table in catalog order: pages read from the source are written to the target and digested on the way. */
async function copyInto(
  snapshot: TransferSnapshot,
  target: StoreTransfer,
  pageSize: number,
  onProgress: MigrateOptions['onProgress'],
): Promise<TableDigest[]> {
  const totals = new Map<string, number>();
  for (const table of TRANSFER_CATALOG) totals.set(table.name, await snapshot.count(table));
  const digests: TableDigest[] = [];
  await target.load(async (loader) => {
    for (const table of TRANSFER_CATALOG) {
      const digester = new TableDigester(table);
      const total = totals.get(table.name)!;
      let copied = 0;
      onProgress?.({ phase: 'copy', table: table.name, copied, total });
      for await (const page of snapshot.pages(table, pageSize)) {
        await loader.write(table, page);
        digester.add(page);
        copied += page.length;
        onProgress?.({ phase: 'copy', table: table.name, copied, total: Math.max(total, copied) });
      }
      digests.push(digester.digest());
    }
  });
  return digests;
}

async function digestAll(snapshot: TransferSnapshot, pageSize: number): Promise<TableDigest[]> {
  const digests: TableDigest[] = [];
  for (const table of TRANSFER_CATALOG) digests.push(await digestTable(snapshot, table, pageSize));
  return digests;
}

/** Reads the target back (a new snapshot, after the copy committed) and compares it with the source's digests. */
export async function verifyAgainst(
  expected: readonly TableDigest[],
  target: StoreTransfer,
  pageSize: number,
  onProgress: MigrateOptions['onProgress'],
): Promise<void> {
  const actual = await target.readSnapshot(async (snapshot) => {
    const digests: TableDigest[] = [];
    for (const [index, table] of TRANSFER_CATALOG.entries()) {
      onProgress?.({ phase: 'verify', table: table.name, tableIndex: index, tables: TRANSFER_CATALOG.length });
      digests.push(await digestTable(snapshot, table, pageSize));
    }
    return digests;
  });
  const mismatches = compareDigests(expected, actual);
  if (mismatches.length > 0) throw new VerificationError(mismatches);
}

/** The tables whose count or checksums differ between two lists of digests (by table name). */
export function compareDigests(source: readonly TableDigest[], target: readonly TableDigest[]): DigestMismatch[] {
  const mismatches: DigestMismatch[] = [];
  for (const expected of source) {
    const actual = target.find((digest) => digest.table === expected.table) ?? { table: expected.table, rows: 0, sealedSha256: '', rowsSha256: '' };
    const same = actual.rows === expected.rows && actual.sealedSha256 === expected.sealedSha256 && actual.rowsSha256 === expected.rowsSha256;
    if (!same) mismatches.push({ table: expected.table, source: expected, target: actual });
  }
  return mismatches;
}

function describeMismatch({ table, source, target }: DigestMismatch): string {
  if (source.rows !== target.rows) return `${table} (${source.rows} rows in the source, ${target.rows} in the target)`;
  if (source.sealedSha256 !== target.sealedSha256) return `${table} (sealed blobs differ)`;
  return `${table} (row contents differ)`;
}

export type OpenedStore = { transfer: StoreTransfer; close(): Promise<void> };

async function openSource(location: StoreLocation): Promise<OpenedStore> {
  const opened = await openExisting(location, 'source');
  try {
    // Brought up to this version's schema first (as starting a server on it would), so the catalog matches it.
    await opened.migrate();
    const lost = await opened.transfer.uncatalogued();
    if (lost.length > 0) {
      throw new MigrateRefusedError(`the source has data this version of coffer migrate does not know how to copy: ${lost.join(', ')}`);
    }
    return opened;
  } catch (error) {
    await opened.close();
    throw error;
  }
}

/**
 * The target: a data dir (created 0700 when absent) or a PostgreSQL database. Its emptiness is checked before
 * its schema is migrated, so a refused target is left exactly as it was.
 */
export async function openTarget(location: StoreLocation): Promise<OpenedStore> {
  if (location.kind === 'sqlite' && !existsSync(location.dataDir)) mkdirSync(location.dataDir, { recursive: true, mode: 0o700 });
  const opened = openStore(location);
  try {
    const occupied = await opened.transfer.occupiedTables();
    if (occupied.length > 0) throw new MigrateRefusedError(`${describeLocation(location)} is not empty (it holds rows in ${occupied.join(', ')}); migrate copies only into an empty store`);
    await opened.migrate();
    return opened;
  } catch (error) {
    await opened.close();
    throw error;
  }
}

export async function openExisting(location: StoreLocation, role: 'source' | 'target'): Promise<OpenedStore & { migrate(): Promise<void> }> {
  if (location.kind === 'sqlite' && !existsSync(join(location.dataDir, 'coffer.db'))) {
    throw new MigrateRefusedError(`the ${role} ${location.dataDir} holds no Coffer database (no coffer.db)`);
  }
  return openStore(location);
}

function openStore(location: StoreLocation): OpenedStore & { migrate(): Promise<void> } {
  if (location.kind === 'sqlite') {
    const store = new SqliteStore(join(location.dataDir, 'coffer.db'));
    return { transfer: store.transfer(), migrate: async () => store.migrate(), close: async () => store.close() };
  }
  // A copy holds one connection for its snapshot and one for its load, each for as long as the copy takes.
  // A page's INSERT may take longer than a request's statement; a cursor's reads are not bounded by it at all.
  const store = new PostgresStore({ connectionString: location.url, poolSize: 2, statementTimeoutMs: 60_000, readCacheMaxAgeMs: 0 });
  return { transfer: store.transfer(), migrate: () => store.migrate(), close: () => store.close() };
}
