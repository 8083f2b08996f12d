import { createHash, createHmac, hkdfSync, randomBytes, scrypt, timingSafeEqual, type Hash } from 'node:crypto';
import { closeSync, createReadStream, existsSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { gunzipSync, gzipSync } from 'node:zlib';
import { fsyncDirectory } from '../core/index.js';
import { deriveAuditAnchorKey, openSealedChunks, rootKeyMatches, sealChunk, SealedChunkError } from '../crypto/index.js';
import {
  anchorLine,
  parseAnchorLine,
  signAnchor,
  TableDigester,
  TargetNotEmptyError,
  TRANSFER_CATALOG,
  type TableDigest,
  type TransferRow,
  type TransferSnapshot,
  type TransferTable,
} from '../store/index.js';
import { openAuditLog } from './audit-log.js';
import {
  compareDigests,
  DEFAULT_PAGE_SIZE,
  describeLocation,
  MigrateRefusedError,
  openExisting,
  openTarget,
  parseStoreLocation,
  verifyAgainst,
  type StoreLocation,
} from './migrate.js';
import { ROOT_KEY_CHECK } from './root-key.js';

/**
 * `coffer backup` and `coffer restore` (docs/reliability.md, "Backups and audit retention"): a snapshot of a whole store, taken while
 * its servers run, written as one encrypted, checksummed file; and its restore into an empty store.
 *
 * The rows are the backend-neutral ones of `coffer migrate` (store/transfer.ts, TRANSFER_CATALOG), read in ONE
 * snapshot of the source (SQLite: a read transaction on coffer.db, then one on audit.db, which WAL lets run
 * beside the server's writes; PostgreSQL: one REPEATABLE READ READ ONLY transaction). So a backup of either
 * backend restores into either. audit.db's snapshot begins after coffer.db's: a call is acknowledged only
 * once its event is durable, so every acknowledged change in the snapshot has its event in it (the log may
 * hold events of calls whose changes came after coffer.db's snapshot, as it would for any later call).
 *
 * File: "COFFERBACKUP" | u8 format version | u32 header length | header JSON, then the chunks of
 * crypto/sealed-chunks.ts (AES-256-GCM, AAD = header prefix + index + final flag), each the gzip of one JSON
 * page `{table, rows}` (bytes columns base64), the final one the trailer: a SHA-256 over every page's JSON,
 * the row count and SHA-256s of every table (migrate's TableDigest), the audit chain's head, and the source's
 * audit anchors that the snapshot covers. The key: scrypt of a passphrase, or HKDF of a 256-bit key file,
 * salted per backup. The root key is NOT in the file (sealed values stay sealed under it); the header carries
 * the database's root key check value, so a restore refuses a snapshot of another installation.
 */

const MAGIC = Buffer.from('COFFERBACKUP', 'ascii');
export const BACKUP_FORMAT_VERSION = 1;
const PREFIX_LENGTH = MAGIC.length + 1 + 4;
const MAX_HEADER_BYTES = 1024 * 1024;
const SCRYPT = { N: 2 ** 15, r: 8, p: 1 } as const;
const KEY_CHECK_LABEL = 'coffer-backup key check';

export type BackupKdf = { name: 'scrypt'; N: number; r: number; p: number; salt: string } | { name: 'key-file'; salt: string };

/** What the snapshot is encrypted under: a passphrase, or the 256-bit key of a key file (base64 in the file). */
export type BackupSecret = { kind: 'passphrase'; passphrase: string } | { kind: 'key-file'; key: Buffer };

export type BackupHeader = {
  format: 'coffer-backup';
  version: number;
  kdf: BackupKdf;
  createdAt: string;
  /** Random per file: chunks of two backups cannot be spliced even under one key. */
  backupId: string;
  keyCheck: string;
  /** The Coffer that wrote it, and the kind of store it was taken from. */
  coffer: string;
  source: 'sqlite' | 'postgres';
  /** meta.root_key_check of the snapshot (base64), or null for a store that never had a root key. */
  rootKeyCheck: string | null;
  /** The catalog the rows follow: every table with its columns, in order. */
  tables: Array<{ name: string; columns: string[] }>;
};

export type AuditHead = { sequence: number; hash: string };

type Trailer = { contentSha256: string; tables: TableDigest[]; auditHead: AuditHead | null; anchors: string[] };

/** Refused before anything was written: a bad argument, or a file that is not an intact backup for this key and root key. */
export class BackupRefusedError extends Error {
  override name = 'BackupRefusedError';
}

export type BackupOptions = {
  /** A data dir or a postgres:// URL (the running deployment's). */
  from: string;
  file: string;
  secret: BackupSecret;
  /** The source's audit anchors (default `<data-dir>.audit-anchors` for a data dir; none for PostgreSQL). */
  anchorFile?: string;
  cofferVersion: string;
  pageSize?: number;
};

export type BackupReport = { from: StoreLocation; file: string; rows: number; tables: TableDigest[]; auditHead: AuditHead | null; anchors: number; bytes: number };

export async function backupStore(options: BackupOptions): Promise<BackupReport> {
  const from = parseStoreLocation(options.from);
  if (existsSync(options.file)) throw new BackupRefusedError(`${options.file} already exists; a backup never overwrites a file`);
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  const kdf = newKdf(options.secret);
  const key = await deriveBackupKey(options.secret, kdf);
  const source = await openExisting(from, 'source').catch((error: unknown) => {
    throw error instanceof MigrateRefusedError ? new BackupRefusedError(error.message) : error;
  });
  // Written beside the target, renamed into place when complete: a failed backup leaves no file that looks whole.
  const partial = join(dirname(options.file), `.${randomBytes(6).toString('hex')}.coffer-backup-partial`);
  const fd = openSync(partial, 'wx', 0o600);
  let report: Omit<BackupReport, 'bytes' | 'file'>;
  let bytes = 0;
  const write = (buffer: Buffer) => {
    writeSync(fd, buffer);
    bytes += buffer.length;
  };
  try {
    const lost = await source.transfer.uncatalogued();
    if (lost.length > 0) throw new BackupRefusedError(`the source has data this version of coffer backup does not know how to copy: ${lost.join(', ')}`);
    report = await source.transfer.readSnapshot((snapshot) =>
      writeSnapshot(snapshot, { from, key, kdf, pageSize, write, cofferVersion: options.cofferVersion, anchorFile: options.anchorFile ?? defaultAnchorFile(from) }),
    );
    fsyncSync(fd);
    closeSync(fd);
    renameSync(partial, options.file);
    fsyncDirectory(dirname(options.file));
  } catch (error) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    rmSync(partial, { force: true });
    throw error;
  } finally {
    key.fill(0);
    await source.close();
  }
  return { ...report, file: options.file, bytes };
}

function defaultAnchorFile(from: StoreLocation): string | undefined {
  return from.kind === 'sqlite' ? `${from.dataDir.replace(/[/\\]+$/, '')}.audit-anchors` : undefined;
}

type SnapshotWriting = {
  from: StoreLocation;
  key: Buffer;
  kdf: BackupKdf;
  pageSize: number;
  write: (buffer: Buffer) => void;
  cofferVersion: string;
  anchorFile: string | undefined;
};

async function writeSnapshot(snapshot: TransferSnapshot, writing: SnapshotWriting): Promise<Omit<BackupReport, 'bytes' | 'file'>> {
  // meta first (it is small): its root key check goes into the header, which the first chunk's AAD covers.
  const metaTable = TRANSFER_CATALOG[0]!;
  const metaRows: TransferRow[] = [];
  for await (const page of snapshot.pages(metaTable, writing.pageSize)) metaRows.push(...page);
  const check = metaRows.find((row) => row[0] === ROOT_KEY_CHECK)?.[1];
  const header: BackupHeader = {
    format: 'coffer-backup',
    version: BACKUP_FORMAT_VERSION,
    kdf: writing.kdf,
    createdAt: new Date().toISOString(),
    backupId: randomBytes(16).toString('base64'),
    keyCheck: keyCheckOf(writing.key),
    coffer: writing.cofferVersion,
    source: writing.from.kind,
    rootKeyCheck: Buffer.isBuffer(check) ? check.toString('base64') : null,
    tables: catalogShape(),
  };
  const prefix = headerPrefixOf(header);
  writing.write(prefix);
  const content = createHash('sha256');
  let index = 0;
  const writePage = (table: TransferTable, rows: readonly TransferRow[]) => {
    const json = Buffer.from(JSON.stringify({ table: table.name, rows: rows.map((row) => encodeRow(table, row)) }), 'utf8');
    content.update(json);
    writing.write(sealChunk(writing.key, prefix, index++, false, gzipSync(json)));
  };
  const digests: TableDigest[] = [];
  let auditHead: AuditHead | null = null;
  let rows = 0;
  for (const table of TRANSFER_CATALOG) {
    const digester = new TableDigester(table);
    const pages = table === metaTable ? pagesOf(metaRows, writing.pageSize) : snapshot.pages(table, writing.pageSize);
    for await (const page of pages) {
      writePage(table, page);
      digester.add(page);
      rows += page.length;
      if (table.name === 'audit_events') {
        const last = page[page.length - 1]!;
        auditHead = { sequence: Number(last[0]), hash: String(last[12]) };
      }
    }
    digests.push(digester.digest());
  }
  const anchors = await anchorsCovering(writing.anchorFile, auditHead);
  const trailer: Trailer = { contentSha256: content.digest('hex'), tables: digests, auditHead, anchors };
  writing.write(sealChunk(writing.key, prefix, index, true, gzipSync(Buffer.from(JSON.stringify({ trailer }), 'utf8'))));
  return { from: writing.from, rows, tables: digests, auditHead, anchors: anchors.length };
}

async function* pagesOf(rows: TransferRow[], pageSize: number): AsyncGenerator<TransferRow[]> {
  for (let start = 0; start < rows.length; start += pageSize) yield rows.slice(start, start + pageSize);
}

/** Anchors carried at most: the newest ones matter (a year of anchors every 10 s is ~3 million lines). */
const CARRIED_ANCHORS = 1000;

/**
 * The newest anchor lines of the source that name an event the snapshot holds (later ones would fail on the
 * restore), read line by line.
 */
async function anchorsCovering(anchorFile: string | undefined, head: AuditHead | null): Promise<string[]> {
  if (!anchorFile || !head || !existsSync(anchorFile)) return [];
  const kept: string[] = [];
  for await (const line of createInterface({ input: createReadStream(anchorFile, 'utf8'), crlfDelay: Infinity })) {
    const anchor = parseAnchorLine(line);
    if (!anchor || anchor.sequence > head.sequence) continue;
    kept.push(anchorLine(anchor));
    if (kept.length >= 2 * CARRIED_ANCHORS) kept.splice(0, kept.length - CARRIED_ANCHORS);
  }
  return kept.slice(-CARRIED_ANCHORS);
}

function catalogShape(): BackupHeader['tables'] {
  return TRANSFER_CATALOG.map((table) => ({ name: table.name, columns: table.columns.map((column) => column.name) }));
}

/** Bytes columns as base64 (JSON has no bytes); every other value is JSON already. */
function encodeRow(table: TransferTable, row: TransferRow): unknown[] {
  return row.map((value, index) => (table.columns[index]!.kind === 'bytes' && Buffer.isBuffer(value) ? value.toString('base64') : value));
}

function decodeRow(table: TransferTable, row: unknown): TransferRow {
  if (!Array.isArray(row) || row.length !== table.columns.length) throw new Error(`a row of ${table.name} has the wrong number of columns`);
  return row.map((value, index) => {
    if (value === null) return null;
    const kind = table.columns[index]!.kind;
    if (kind === 'bytes') return Buffer.from(String(value), 'base64');
    return value as TransferRow[number];
  });
}

// ---- keys -------------------------------------------------------------------------------------------------

function newKdf(secret: BackupSecret): BackupKdf {
  const salt = randomBytes(16).toString('base64');
  return secret.kind === 'passphrase' ? { name: 'scrypt', ...SCRYPT, salt } : { name: 'key-file', salt };
}

async function deriveBackupKey(secret: BackupSecret, kdf: BackupKdf): Promise<Buffer> {
  if (kdf.name === 'key-file') {
    if (secret.kind !== 'key-file') throw new BackupRefusedError('this backup is encrypted under a key file: give --key-file');
    return Buffer.from(hkdfSync('sha256', secret.key, Buffer.from(kdf.salt, 'base64'), 'coffer-backup key v1', 32));
  }
  if (secret.kind !== 'passphrase') throw new BackupRefusedError('this backup is encrypted under a passphrase: give --passphrase-file or --passphrase-env');
  if (![kdf.N, kdf.r, kdf.p].every((n) => Number.isSafeInteger(n) && n > 0) || kdf.N > 2 ** 22 || kdf.r > 32 || kdf.p > 16) {
    throw new BackupRefusedError('the backup header names scrypt parameters outside the accepted range');
  }
  return new Promise((resolve, reject) =>
    scrypt(secret.passphrase, Buffer.from(kdf.salt, 'base64'), 32, { N: kdf.N, r: kdf.r, p: kdf.p, maxmem: 256 * kdf.N * kdf.r * kdf.p + 1024 * 1024 }, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}

/** A key file holds a 256-bit key in base64 (`head -c 32 /dev/urandom | base64 > backup.key`). */
export function readBackupKeyFile(path: string): Buffer {
  let key: Buffer;
  try {
    key = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64');
  } catch (error) {
    throw new BackupRefusedError(`cannot read the key file ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (key.length !== 32) throw new BackupRefusedError(`the key file ${path} does not hold a 256-bit key in base64`);
  return key;
}

function keyCheckOf(key: Buffer): string {
  return createHmac('sha256', key).update(KEY_CHECK_LABEL).digest().subarray(0, 16).toString('base64');
}

function headerPrefixOf(header: BackupHeader): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const prefix = Buffer.alloc(PREFIX_LENGTH);
  MAGIC.copy(prefix, 0);
  prefix.writeUInt8(BACKUP_FORMAT_VERSION, MAGIC.length);
  prefix.writeUInt32BE(json.length, MAGIC.length + 1);
  return Buffer.concat([prefix, json]);
}

// ---- reading ----------------------------------------------------------------------------------------------

/** An opened backup file: its header (shape-checked), the key it was made under, and its chunks. */
type OpenedBackup = {
  header: BackupHeader;
  /** Every page, then the trailer; throws BackupRefusedError for a damaged, cut or altered file. */
  pages(): AsyncGenerator<{ table: TransferTable; rows: TransferRow[] } | { trailer: Trailer }>;
  close(): Promise<void>;
};

async function openBackup(file: string, secret: BackupSecret): Promise<OpenedBackup> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    throw new BackupRefusedError(`cannot open ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  try {
    const size = (await handle.stat()).size;
    const read = async (position: number, length: number) => {
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buffer, 0, length, position);
      return buffer.subarray(0, bytesRead);
    };
    const { header, prefix } = parseHeader(await read(0, Math.min(size, PREFIX_LENGTH + MAX_HEADER_BYTES)));
    const key = await deriveBackupKey(secret, header.kdf);
    const expected = Buffer.from(keyCheckOf(key), 'base64');
    const stored = Buffer.from(header.keyCheck, 'base64');
    if (stored.length !== expected.length || !timingSafeEqual(stored, expected)) {
      key.fill(0);
      throw new BackupRefusedError(header.kdf.name === 'scrypt' ? 'wrong passphrase for this backup' : 'wrong key file for this backup');
    }
    return {
      header,
      pages: () => decodePages(openSealedChunks(read, size, prefix.length, key, prefix)),
      async close() {
        key.fill(0);
        await handle.close();
      },
    };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

function parseHeader(start: Buffer): { header: BackupHeader; prefix: Buffer } {
  if (start.length < PREFIX_LENGTH || !start.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new BackupRefusedError('not a Coffer backup (the file does not start with the backup magic)');
  }
  const version = start.readUInt8(MAGIC.length);
  if (version !== BACKUP_FORMAT_VERSION) throw new BackupRefusedError(`backup format version ${version} is not supported (expected ${BACKUP_FORMAT_VERSION})`);
  const length = start.readUInt32BE(MAGIC.length + 1);
  if (length > MAX_HEADER_BYTES || PREFIX_LENGTH + length > start.length) throw new BackupRefusedError('the backup header is damaged or truncated');
  let header: BackupHeader;
  try {
    header = JSON.parse(start.subarray(PREFIX_LENGTH, PREFIX_LENGTH + length).toString('utf8')) as BackupHeader;
  } catch {
    throw new BackupRefusedError('the backup header is damaged (not JSON)');
  }
  const kdf = header?.kdf;
  const kdfOk = (kdf?.name === 'scrypt' || kdf?.name === 'key-file') && typeof kdf.salt === 'string';
  if (header?.format !== 'coffer-backup' || header.version !== version || !kdfOk || typeof header.keyCheck !== 'string' || !Array.isArray(header.tables)) {
    throw new BackupRefusedError('the backup header is damaged (unexpected fields)');
  }
  return { header, prefix: start.subarray(0, PREFIX_LENGTH + length) };
}

async function* decodePages(chunks: AsyncGenerator<{ index: number; final: boolean; plaintext: Buffer }>) {
  try {
    for await (const { index, final, plaintext } of chunks) {
      let parsed: { table?: string; rows?: unknown[]; trailer?: Trailer };
      try {
        parsed = JSON.parse(gunzipSync(plaintext).toString('utf8')) as typeof parsed;
      } catch {
        throw new BackupRefusedError(`chunk ${index} of the backup holds no page`);
      }
      if (final) {
        if (!parsed.trailer) throw new BackupRefusedError('the backup ends without its trailer');
        yield { trailer: parsed.trailer };
        return;
      }
      const table = TRANSFER_CATALOG.find((candidate) => candidate.name === parsed.table);
      if (!table || !Array.isArray(parsed.rows)) throw new BackupRefusedError(`chunk ${index} of the backup names no known table`);
      yield { table, rows: parsed.rows.map((row) => decodeRow(table, row)) };
    }
  } catch (error) {
    if (error instanceof SealedChunkError) throw new BackupRefusedError(`the backup is damaged: ${error.message}`);
    throw error;
  }
}

export type BackupCheck = { header: BackupHeader; rows: number; tables: TableDigest[]; auditHead: AuditHead | null; anchors: string[] };

/**
 * Reads the whole file and checks it: every chunk authenticated, pages in catalog order, and the SHA-256 of
 * every page and every table's digests equal to the trailer's. Nothing is written. `rootKey`, when given, must
 * be the key the snapshot's data is sealed under (its check value), or the backup is another installation's.
 */
export async function checkBackup(file: string, secret: BackupSecret, rootKey?: Buffer): Promise<BackupCheck> {
  const backup = await openBackup(file, secret);
  try {
    checkHeaderFits(backup.header, rootKey);
    const content = createHash('sha256');
    const digesters = new Map(TRANSFER_CATALOG.map((table) => [table.name, new TableDigester(table)]));
    let lastTable = -1;
    let rows = 0;
    for await (const page of backup.pages()) {
      if ('trailer' in page) {
        const digests = TRANSFER_CATALOG.map((table) => digesters.get(table.name)!.digest());
        checkTrailer(page.trailer, content, digests);
        return { header: backup.header, rows, tables: digests, auditHead: page.trailer.auditHead, anchors: page.trailer.anchors ?? [] };
      }
      const position = TRANSFER_CATALOG.indexOf(page.table);
      if (position < lastTable) throw new BackupRefusedError(`the backup's pages are out of order (${page.table.name} after a later table)`);
      lastTable = position;
      content.update(pageJson(page.table, page.rows));
      digesters.get(page.table.name)!.add(page.rows);
      rows += page.rows.length;
    }
    throw new BackupRefusedError('the backup ends without its trailer');
  } finally {
    await backup.close();
  }
}

function pageJson(table: TransferTable, rows: readonly TransferRow[]): Buffer {
  return Buffer.from(JSON.stringify({ table: table.name, rows: rows.map((row) => encodeRow(table, row)) }), 'utf8');
}

function checkHeaderFits(header: BackupHeader, rootKey: Buffer | undefined): void {
  if (JSON.stringify(header.tables) !== JSON.stringify(catalogShape())) {
    throw new BackupRefusedError(
      `the backup was made by Coffer ${header.coffer}, whose tables differ from this version's: restore it with that version, then upgrade`,
    );
  }
  if (rootKey && header.rootKeyCheck && !rootKeyMatches(rootKey, Buffer.from(header.rootKeyCheck, 'base64'))) {
    throw new BackupRefusedError(
      'the backup belongs to another installation: its root key check value does not match the root key given ' +
        '(restore needs the root key the backed-up server used: --root-key-file or COFFER_ROOT_KEY)',
    );
  }
}

function checkTrailer(trailer: Trailer, content: Hash, digests: TableDigest[]): void {
  if (content.digest('hex') !== trailer.contentSha256) throw new BackupRefusedError('the backup\'s content does not match its SHA-256 checksum');
  const mismatches = compareDigests(trailer.tables ?? [], digests);
  if (mismatches.length > 0 || (trailer.tables ?? []).length !== digests.length) {
    throw new BackupRefusedError(`the backup's tables do not match its checksums (${mismatches.map((mismatch) => mismatch.table).join(', ')})`);
  }
}

// ---- restore ----------------------------------------------------------------------------------------------

export type RestoreOptions = {
  file: string;
  /** An empty data dir (created if absent) or an empty PostgreSQL database. */
  to: string;
  secret: BackupSecret;
  /** The root key the backed-up deployment used; it is checked against the snapshot, and signs the restored anchors. */
  rootKey: Buffer;
  /** Where the restored log's anchors go (default `<data-dir>.audit-anchors`; for PostgreSQL, none unless given). */
  anchorFile?: string;
  pageSize?: number;
};

export type RestoreReport = { to: StoreLocation; rows: number; tables: TableDigest[]; auditHead: AuditHead | null; auditEvents: number; anchorFile?: string };

/**
 * Checks the whole file first (checkBackup: nothing is written for a damaged, cut, foreign or wrongly keyed
 * backup), then loads it into the empty target in one transaction (each chunk authenticated again as it is
 * read), reads the target back against the trailer's digests, verifies the restored audit chain and writes its
 * anchors: the source's anchors the snapshot covers, and one of the restored head, signed under the root key.
 */
export async function restoreStore(options: RestoreOptions): Promise<RestoreReport> {
  const to = parseStoreLocation(options.to);
  const checked = await checkBackup(options.file, options.secret, options.rootKey);
  const target = await openTarget(to).catch((error: unknown) => {
    throw error instanceof MigrateRefusedError ? new BackupRefusedError(error.message.replace('migrate copies', 'restore writes')) : error;
  });
  try {
    const backup = await openBackup(options.file, options.secret);
    try {
      await target.transfer.load(async (loader) => {
        for await (const page of backup.pages()) if (!('trailer' in page)) await loader.write(page.table, page.rows);
      });
    } catch (error) {
      throw error instanceof TargetNotEmptyError ? new BackupRefusedError(`${describeLocation(to)} is not empty: ${error.message}`) : error;
    } finally {
      await backup.close();
    }
  } finally {
    await target.close();
  }
  await verifyRestored(to, checked.tables, options.pageSize ?? DEFAULT_PAGE_SIZE);
  const auditEvents = await verifyRestoredChain(to, checked.auditHead);
  const anchorFile = options.anchorFile ?? defaultAnchorFile(to);
  if (anchorFile) writeAnchors(anchorFile, checked.anchors, checked.auditHead, options.rootKey);
  return { to, rows: checked.rows, tables: checked.tables, auditHead: checked.auditHead, auditEvents, anchorFile };
}

async function verifyRestored(to: StoreLocation, expected: TableDigest[], pageSize: number): Promise<void> {
  const copied = await openExisting(to, 'target');
  try {
    await verifyAgainst(expected, copied.transfer, pageSize, undefined);
  } finally {
    await copied.close();
  }
}

/** The restored chain must verify and end at the snapshot's head. */
async function verifyRestoredChain(to: StoreLocation, head: AuditHead | null): Promise<number> {
  const log = await openAuditLog(to.kind === 'sqlite' ? to.dataDir : '', to.kind === 'postgres' ? to.url : undefined);
  try {
    const result = await log.verify();
    if (!result.intact) throw new Error(`the restored audit chain is broken at event ${result.brokenSequence}: ${result.reason}`);
    if ((result.head?.sequence ?? null) !== (head?.sequence ?? null) || (result.head?.hash ?? null) !== (head?.hash ?? null)) {
      throw new Error('the restored audit chain does not end at the snapshot\'s head');
    }
    return result.events;
  } finally {
    await log.close();
  }
}

/** Appends (creating 0600) the carried anchors and a new one of the restored head; each line ends with fsync. */
function writeAnchors(file: string, carried: string[], head: AuditHead | null, rootKey: Buffer): void {
  const anchorKey = deriveAuditAnchorKey(rootKey);
  try {
    const lines = [...carried];
    if (head) lines.push(anchorLine(signAnchor(anchorKey, head, new Date())));
    if (lines.length === 0) return;
    const fd = openSync(file, 'a', 0o600);
    try {
      writeSync(fd, `${lines.join('\n')}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } finally {
    anchorKey.fill(0);
  }
}
