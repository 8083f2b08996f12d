import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import {
  TargetNotEmptyError,
  TRANSFER_CATALOG,
  tablesWithData,
  type StoreTransfer,
  type TransferColumn,
  type TransferLoader,
  type TransferRow,
  type TransferSnapshot,
  type TransferTable,
  type TransferValue,
} from '../transfer.js';
import { AUDIT_COLUMNS, AuditNames, logicalAuditRow, storedAuditRow, type AuditLogicalRow } from './audit-rows.js';
import { openAuditDatabase } from './audit-writer.js';

type Db = Database.Database;

/**
 * Tables of the schema's own bookkeeping, never copied (the target's own migrations write its own). audit_names
 * and audit_templates (audit-rows.ts) are part of how audit_events is stored: a copy carries the events' texts
 * and canonical bodies, and the target gives them ids of its own.
 */
const BOOKKEEPING_TABLES = new Set(['schema_migrations', 'audit_migrations', 'audit_names', 'audit_templates']);
/** The one table that lives in audit.db rather than coffer.db (audit-writer.ts). */
const AUDIT_TABLE = 'audit_events';

/**
 * The SQLite side of `coffer migrate` (the canonical form is in ../transfer.ts): coffer.db on the store's
 * connection, and audit.db (the audit log's own file) on a connection of its own, opened for the duration of
 * a snapshot or a load. An in-memory store keeps its audit rows in its one database.
 *
 * SQLite specifics, all here: booleans are 0/1, an audit event's resource names are a JSON array in TEXT, and
 * a `position` column is the rowid (read as it; on insert left to SQLite, which numbers rows in the order
 * they come, and rows come in position order).
 *
 * It reads and writes the database directly, beside the store's read cache, which `onWrite` empties.
 */
export class SqliteTransfer implements StoreTransfer {
  readonly #main: Db;
  readonly #auditPath: string | undefined;
  readonly #onWrite: () => void;

  constructor(main: Db, auditPath: string | undefined, onWrite: () => void) {
    this.#main = main;
    this.#auditPath = auditPath;
    this.#onWrite = onWrite;
  }

  async uncatalogued(): Promise<string[]> {
    const missing = uncataloguedIn(this.#main, this.#auditPath === undefined ? [] : [AUDIT_TABLE]);
    const audit = this.#openExistingAudit();
    if (!audit) return missing;
    try {
      return [...missing, ...uncataloguedIn(audit, [])].filter((entry, index, all) => all.indexOf(entry) === index);
    } finally {
      audit.close();
    }
  }

  async occupiedTables(): Promise<string[]> {
    const audit = this.#openExistingAudit();
    try {
      return occupiedIn((table) => (table.name === AUDIT_TABLE ? [this.#main, ...(audit ? [audit] : [])] : [this.#main]));
    } finally {
      audit?.close();
    }
  }

  async readSnapshot<T>(body: (snapshot: TransferSnapshot) => Promise<T>): Promise<T> {
    const audit = this.#openExistingAudit();
    const databases = [this.#main, ...(audit ? [audit] : [])];
    try {
      // A read transaction in WAL mode sees the database as of its first read, whatever commits after.
      for (const db of databases) {
        db.exec('BEGIN');
        db.prepare('SELECT count(*) FROM sqlite_master').get();
      }
      return await body({
        count: async (table) => {
          const db = this.#databaseOf(table, audit);
          return db && tableExists(db, table.name) ? (db.prepare(`SELECT count(*) FROM ${table.name}`).pluck().get() as number) : 0;
        },
        pages: (table, pageSize) => readPages(this.#databaseOf(table, audit), table, pageSize),
      });
    } finally {
      for (const db of databases) if (db.inTransaction) db.exec('ROLLBACK');
      audit?.close();
    }
  }

  async load(body: (loader: TransferLoader) => Promise<void>): Promise<void> {
    const audit = this.#auditPath === undefined ? undefined : openAuditDatabase(this.#auditPath);
    const databases = [this.#main, ...(audit ? [audit] : [])];
    try {
      for (const db of databases) db.exec('BEGIN IMMEDIATE');
      const occupied = occupiedIn((table) => [this.#databaseOf(table, audit)!]);
      if (occupied.length > 0) throw new TargetNotEmptyError(occupied);
      for (const table of TRANSFER_CATALOG) removeSeedRows(this.#databaseOf(table, audit)!, table);
      const inserts = new Map<string, (row: TransferRow) => void>();
      await body({
        write: async (table, rows) => {
          let insert = inserts.get(table.name);
          if (!insert) {
            const db = this.#databaseOf(table, audit)!;
            if (table.name === AUDIT_TABLE) insert = auditRowWriter(db);
            else {
              const statement = db.prepare(insertSql(table));
              insert = (row) => statement.run(...toSqliteRow(table, row));
            }
            inserts.set(table.name, insert);
          }
          for (const row of rows) insert(row);
        },
      });
      // coffer.db first: a failure between the two commits leaves data without its audit log, which a re-run
      // refuses (the target is not empty) rather than a log without the data it records.
      for (const db of databases) db.exec('COMMIT');
    } finally {
      for (const db of databases) if (db.inTransaction) db.exec('ROLLBACK');
      audit?.close();
      this.#onWrite();
    }
  }

  /** audit.db if it exists (never created just to be read). */
  #openExistingAudit(): Db | undefined {
    if (this.#auditPath === undefined || !existsSync(this.#auditPath)) return undefined;
    const db = new Database(this.#auditPath);
    db.pragma('busy_timeout = 5000');
    db.pragma('query_only = ON');
    return db;
  }

  /** Where a table lives: audit_events in audit.db (undefined when there is none yet), every other in coffer.db. */
  #databaseOf(table: TransferTable, audit: Db | undefined): Db | undefined {
    if (table.name === AUDIT_TABLE && this.#auditPath !== undefined) return audit;
    return this.#main;
  }
}

async function* readPages(db: Db | undefined, table: TransferTable, pageSize: number): AsyncGenerator<TransferRow[]> {
  if (!db || !tableExists(db, table.name)) return;
  if (table.name === AUDIT_TABLE) {
    yield* readAuditPages(db, pageSize);
    return;
  }
  const order = table.order.map((name) => columnExpression(columnOf(table, name))).join(', ');
  const statement = db.prepare(`SELECT ${table.columns.map(columnExpression).join(', ')} FROM ${table.name} ORDER BY ${order}`).raw(true);
  let page: TransferRow[] = [];
  for (const row of statement.iterate() as IterableIterator<unknown[]>) {
    page.push(fromSqliteRow(table, row));
    if (page.length === pageSize) {
      yield page;
      page = [];
    }
  }
  if (page.length > 0) yield page;
}

/** Audit events in their logical form (texts, hex hashes, the canonical JSON body), whatever their encoding. */
async function* readAuditPages(db: Db, pageSize: number): AsyncGenerator<TransferRow[]> {
  const names = new AuditNames(db);
  // Paged by sequence with all() (names are looked up on the same connection, which an open iterate() forbids).
  const page = db.prepare(`SELECT ${AUDIT_COLUMNS} FROM audit_events WHERE sequence > ? ORDER BY sequence LIMIT ?`);
  for (let after = Number.MIN_SAFE_INTEGER; ; ) {
    const rows = page.all(after, pageSize) as Array<Record<string, unknown>>;
    if (rows.length > 0) {
      yield rows.map((row) => {
        const logical: TransferRow = logicalAuditRow(names, row);
        logical[6] = logical[6] === 1;
        logical[9] = JSON.parse(String(logical[9])) as string[];
        return logical;
      });
    }
    if (rows.length < pageSize) return;
    after = Number(rows[rows.length - 1]!.sequence);
  }
}

/** Writes copied audit events in the compact encoding, templates as appends make them (the canonical row's hashes are kept as they are). */
function auditRowWriter(db: Db): (row: TransferRow) => void {
  const names = new AuditNames(db);
  const insert = db.prepare(`INSERT INTO audit_events (${AUDIT_COLUMNS}) VALUES (${AUDIT_COLUMNS.split(',').map(() => '?').join(', ')})`);
  return (row) => {
    const logical = [...row] as unknown as AuditLogicalRow;
    logical[6] = row[6] ? 1 : 0;
    logical[9] = JSON.stringify(row[9]);
    insert.run(...storedAuditRow(names, logical, 'imported'));
  };
}

/** A position is the rowid; every other column is itself. Names come from the catalog only. */
function columnExpression(column: TransferColumn): string {
  return column.kind === 'position' ? 'rowid' : column.name;
}

function columnOf(table: TransferTable, name: string): TransferColumn {
  return table.columns.find((column) => column.name === name)!;
}

/** Positions are not written: SQLite gives each row the next rowid, in the order rows are written. */
function insertSql(table: TransferTable): string {
  const columns = table.columns.filter((column) => column.kind !== 'position');
  return `INSERT INTO ${table.name} (${columns.map((column) => column.name).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`;
}

function fromSqliteRow(table: TransferTable, row: unknown[]): TransferRow {
  return table.columns.map((column, index) => fromSqliteValue(table, column, row[index]));
}

function fromSqliteValue(table: TransferTable, column: TransferColumn, value: unknown): TransferValue {
  if (value === null || value === undefined) return null;
  switch (column.kind) {
    case 'boolean':
      return value !== 0;
    case 'text-list':
      return JSON.parse(String(value)) as string[];
    case 'bytes':
      if (!Buffer.isBuffer(value)) throw new Error(`${table.name}.${column.name} holds a ${typeof value}, not bytes`);
      return value;
    default:
      if (typeof value !== 'string' && typeof value !== 'number') throw new Error(`${table.name}.${column.name} holds an unexpected ${typeof value}`);
      return value;
  }
}

function toSqliteRow(table: TransferTable, row: TransferRow): unknown[] {
  const values: unknown[] = [];
  table.columns.forEach((column, index) => {
    if (column.kind === 'position') return;
    const value = row[index] ?? null;
    if (value === null) values.push(null);
    else if (column.kind === 'boolean') values.push(value ? 1 : 0);
    else if (column.kind === 'text-list') values.push(JSON.stringify(value));
    else values.push(value);
  });
  return values;
}

function tableExists(db: Db, name: string): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
}

/** The catalog tables holding rows beyond their seed rows, summed over the databases each may live in. */
function occupiedIn(databasesOf: (table: TransferTable) => Db[]): string[] {
  const counts = TRANSFER_CATALOG.map((table) => {
    let rows = 0;
    let seedRowsPresent = 0;
    for (const db of databasesOf(table)) {
      if (!tableExists(db, table.name)) continue;
      rows += db.prepare(`SELECT count(*) FROM ${table.name}`).pluck().get() as number;
      for (const seed of table.seedRows ?? []) {
        const { where, values } = seedCondition(table, seed);
        seedRowsPresent += db.prepare(`SELECT count(*) FROM ${table.name} WHERE ${where}`).pluck().get(...values) as number;
      }
    }
    return { table, rows, seedRowsPresent };
  });
  return tablesWithData(counts);
}

function removeSeedRows(db: Db, table: TransferTable): void {
  for (const seed of table.seedRows ?? []) {
    const { where, values } = seedCondition(table, seed);
    db.prepare(`DELETE FROM ${table.name} WHERE ${where}`).run(...values);
  }
}

function seedCondition(table: TransferTable, seed: TransferRow): { where: string; values: unknown[] } {
  return { where: table.columns.map((column) => `${column.name} = ?`).join(' AND '), values: toSqliteRow(table, seed) };
}

/** `table` or `table.column` for what this database holds beyond the catalog; `elsewhere` lists tables kept in another file. */
function uncataloguedIn(db: Db, elsewhere: readonly string[]): string[] {
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'").pluck().all() as string[];
  const missing: string[] = [];
  for (const name of tables) {
    if (BOOKKEEPING_TABLES.has(name) || elsewhere.includes(name)) continue;
    const table = TRANSFER_CATALOG.find((candidate) => candidate.name === name);
    if (!table) {
      missing.push(name);
      continue;
    }
    const columns = (db.prepare(`PRAGMA table_info(${name})`).all() as Array<{ name: string }>).map((column) => column.name);
    for (const column of columns) if (!table.columns.some((known) => known.name === column)) missing.push(`${name}.${column}`);
  }
  return missing;
}
