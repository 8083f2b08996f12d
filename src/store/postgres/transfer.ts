import postgres from 'postgres';
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
import { sqlOn, type Pool, type Sql } from './transaction.js';
import { decodeAuditHash, encodeAuditBody } from '../audit-codec.js';
import { PostgresAuditTemplates } from './audit-tables.js';

type Row = Record<string, any>;

/**
 * Tables of the schema's own bookkeeping, never copied (the target's own migrations write its own). audit_templates
 * (audit-tables.ts) is part of how audit_events is stored: a copy carries the events' canonical bodies.
 */
const BOOKKEEPING_TABLES = new Set(['schema_migrations', 'schema_migrations_lock', 'audit_templates']);
/** PostgreSQL takes at most 65,535 parameters per statement; a multi-row INSERT stays below. */
const MAX_PARAMETERS = 60_000;

/**
 * The PostgreSQL side of `coffer migrate` (the canonical form is in ../transfer.ts), on the store's pool.
 * Every canonical kind is a native type here (BOOLEAN, BYTEA, TEXT[], BIGINT read as numbers by the store's
 * type parser), and a position is an ordinary column. Text keys are ordered with COLLATE "C" (byte order), as
 * SQLite orders them, so both sides list a table's rows in the same order whatever the database's collation.
 *
 * A snapshot is one REPEATABLE READ READ ONLY transaction; a load one SERIALIZABLE transaction, not retried:
 * a conflict means something else wrote to the target meanwhile, and the copy fails with nothing written.
 * It writes beside the store's read cache, which `onWrite` empties.
 */
export class PostgresTransfer implements StoreTransfer {
  readonly #pool: Pool;
  readonly #onWrite: () => void;

  constructor(pool: Pool, onWrite: () => void) {
    this.#pool = pool;
    this.#onWrite = onWrite;
  }

  async uncatalogued(): Promise<string[]> {
    const columns = await sqlOn(this.#pool).rows(
      `SELECT table_name, column_name FROM information_schema.columns
        WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position`,
    );
    const missing: string[] = [];
    for (const { table_name: tableName, column_name: columnName } of columns) {
      if (BOOKKEEPING_TABLES.has(tableName)) continue;
      const table = TRANSFER_CATALOG.find((candidate) => candidate.name === tableName);
      if (!table) {
        if (!missing.includes(tableName)) missing.push(tableName);
      } else if (!table.columns.some((column) => column.name === columnName)) {
        missing.push(`${tableName}.${columnName}`);
      }
    }
    return missing;
  }

  async occupiedTables(): Promise<string[]> {
    return occupiedIn(sqlOn(this.#pool));
  }

  async readSnapshot<T>(body: (snapshot: TransferSnapshot) => Promise<T>): Promise<T> {
    return (await this.#pool.begin('isolation level repeatable read read only', (transaction) => {
      const sql = sqlOn(transaction);
      return body({
        count: async (table) => ((await tableExists(sql, table.name)) ? Number((await sql.one(`SELECT count(*) AS rows FROM ${table.name}`))!.rows) : 0),
        pages: (table, pageSize) => readPages(transaction, sql, table, pageSize),
      });
    })) as T;
  }

  async load(body: (loader: TransferLoader) => Promise<void>): Promise<void> {
    try {
      await this.#pool.begin('isolation level serializable', async (transaction) => {
        const sql = sqlOn(transaction);
        const occupied = await occupiedIn(sql);
        if (occupied.length > 0) throw new TargetNotEmptyError(occupied);
        for (const table of TRANSFER_CATALOG) await removeSeedRows(sql, table);
        await body({ write: (table, rows) => writeRows(sql, table, rows) });
      });
    } finally {
      this.#onWrite();
    }
  }
}

async function* readPages(transaction: postgres.TransactionSql, sql: Sql, table: TransferTable, pageSize: number): AsyncGenerator<TransferRow[]> {
  if (!(await tableExists(sql, table.name))) return;
  const order = table.order.map((name) => orderTerm(table.columns.find((column) => column.name === name)!)).join(', ');
  // Audit bodies of codec 2 are decoded with their templates, all read before the cursor opens.
  const templates = new PostgresAuditTemplates();
  if (table.columns.some((column) => column.kind === 'audit-body') && (await tableExists(sql, 'audit_templates'))) await templates.loadAll(sql);
  const query = transaction.unsafe(`SELECT ${table.columns.map((column) => column.name).join(', ')} FROM ${table.name} ORDER BY ${order}`);
  for await (const rows of query.cursor(pageSize)) {
    yield (rows as Row[]).map((row) =>
      table.columns.map((column) => (column.kind === 'audit-body' ? templates.bodyOf(row) : fromPostgresValue(table, column, row[column.name]))),
    );
  }
}

/** Text in byte order (SQLite's BINARY collation); numbers as they are. Names come from the catalog only. */
function orderTerm(column: TransferColumn): string {
  return column.kind === 'text' ? `${column.name} COLLATE "C"` : column.name;
}

function fromPostgresValue(table: TransferTable, column: TransferColumn, value: unknown): TransferValue {
  if (value === null || value === undefined) return null;
  switch (column.kind) {
    case 'bytes':
      if (!Buffer.isBuffer(value)) throw new Error(`${table.name}.${column.name} holds a ${typeof value}, not bytes`);
      return value;
    case 'text-list':
      return (value as unknown[]).map(String);
    case 'boolean':
      return Boolean(value);
    case 'integer':
    case 'position':
      return Number(value);
    case 'sha256':
      return decodeAuditHash(value);
    default:
      return String(value);
  }
}

/** Multi-row INSERTs, as many rows per statement as the parameter limit allows. */
async function writeRows(sql: Sql, table: TransferTable, rows: readonly TransferRow[]): Promise<void> {
  const width = table.columns.length;
  const perStatement = Math.max(1, Math.floor(MAX_PARAMETERS / width));
  for (let start = 0; start < rows.length; start += perStatement) {
    const chunk = rows.slice(start, start + perStatement);
    const tuples = chunk.map((_, row) => `(${table.columns.map((__, column) => `$${row * width + column + 1}`).join(', ')})`);
    const values = chunk.flatMap((row) => table.columns.map((column, index) => toPostgresValue(column, row[index] ?? null)));
    await sql.run(`INSERT INTO ${table.name} (${table.columns.map((column) => column.name).join(', ')}) VALUES ${tuples.join(', ')}`, values);
  }
}

/** The audit event's canonical body and hex hashes in their stored encoding (audit-codec.ts); the rest as they are. */
function toPostgresValue(column: TransferColumn, value: TransferValue): unknown {
  if (value === null) return null;
  if (column.kind === 'audit-body') return encodeAuditBody(String(value));
  if (column.kind === 'sha256') return Buffer.from(String(value), 'hex');
  return value;
}

async function tableExists(sql: Sql, name: string): Promise<boolean> {
  return (await sql.one('SELECT to_regclass($1) IS NOT NULL AS present', [name]))!.present === true;
}

/** The catalog tables holding rows beyond their seed rows (a table not created yet holds none). */
async function occupiedIn(sql: Sql): Promise<string[]> {
  const counts = [];
  for (const table of TRANSFER_CATALOG) {
    if (!(await tableExists(sql, table.name))) {
      counts.push({ table, rows: 0, seedRowsPresent: 0 });
      continue;
    }
    const rows = Number((await sql.one(`SELECT count(*) AS rows FROM ${table.name}`))!.rows);
    let seedRowsPresent = 0;
    for (const seed of table.seedRows ?? []) {
      const { where, values } = seedCondition(table, seed);
      seedRowsPresent += Number((await sql.one(`SELECT count(*) AS rows FROM ${table.name} WHERE ${where}`, values))!.rows);
    }
    counts.push({ table, rows, seedRowsPresent });
  }
  return tablesWithData(counts);
}

async function removeSeedRows(sql: Sql, table: TransferTable): Promise<void> {
  for (const seed of table.seedRows ?? []) {
    const { where, values } = seedCondition(table, seed);
    await sql.run(`DELETE FROM ${table.name} WHERE ${where}`, values);
  }
}

function seedCondition(table: TransferTable, seed: TransferRow): { where: string; values: unknown[] } {
  return { where: table.columns.map((column, index) => `${column.name} = $${index + 1}`).join(' AND '), values: [...seed] };
}
