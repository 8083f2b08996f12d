import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { MigrateRefusedError, migrateStore } from '../../src/server/index.js';
import { TableDigester, TRANSFER_CATALOG, transferTable, type TransferTable } from '../../src/store/index.js';
import { PostgresStore } from '../../src/store/postgres/index.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { createTestDatabase } from '../helpers/postgres-store.js';
import { newSecret } from './sample-records.js';

/**
 * The transfer catalog (store/transfer.ts) against both schemas, the checksum, and the copy's guards: what a
 * source holds beyond the catalog is refused, and a copy that fails half-way leaves the target empty.
 */
const workDir = mkdtempSync(join(tmpdir(), 'coffer-transfer-'));
after(() => rmSync(workDir, { recursive: true, force: true }));

/** A migrated SQLite data dir (coffer.db and audit.db, as a server leaves them). */
function sqliteDataDir(name: string): { dir: string; store: SqliteStore } {
  const dir = join(workDir, name);
  mkdirSync(dir, { recursive: true });
  const store = new SqliteStore(join(dir, 'coffer.db'));
  store.migrate();
  return { dir, store };
}

/** The catalog's columns of a table, positions aside when the backend keeps them out of its columns (SQLite's rowid). */
function catalogColumns(table: TransferTable, withPositions: boolean): string[] {
  return table.columns.filter((column) => withPositions || column.kind !== 'position').map((column) => column.name).sort();
}

describe('the transfer catalog', () => {
  it('names exactly the columns of every SQLite table (coffer.db and audit.db), and nothing is left out', async () => {
    const { dir, store } = sqliteDataDir('catalog-sqlite');
    try {
      await store.appendAuditEvent({ eventId: 'e1', accountId: '000000000000', eventTime: new Date(), eventName: 'X', eventSource: 's', readOnly: true, accessKeyId: '', username: '', resourceNames: [], body: '{}' });
      assert.deepEqual(await store.transfer().uncatalogued(), []);
    } finally {
      store.close();
    }
    for (const table of TRANSFER_CATALOG) {
      const db = new Database(join(dir, table.name === 'audit_events' ? 'audit.db' : 'coffer.db'), { readonly: true });
      try {
        const columns = (db.prepare(`PRAGMA table_info(${table.name})`).all() as Array<{ name: string }>).map((column) => column.name).sort();
        assert.deepEqual(columns, catalogColumns(table, false), table.name);
      } finally {
        db.close();
      }
    }
  });

  it('names exactly the columns of every PostgreSQL table, and nothing is left out', async () => {
    const database = await createTestDatabase();
    const store = new PostgresStore({ connectionString: database.url, poolSize: 2 });
    const client = new pg.Client({ connectionString: database.url });
    try {
      await store.migrate();
      assert.deepEqual(await store.transfer().uncatalogued(), []);
      await client.connect();
      for (const table of TRANSFER_CATALOG) {
        const { rows } = await client.query('SELECT column_name FROM information_schema.columns WHERE table_name = $1', [table.name]);
        assert.deepEqual(rows.map((row) => row.column_name as string).sort(), catalogColumns(table, true), table.name);
      }
    } finally {
      await client.end().catch(() => undefined);
      await store.close();
      await database.drop();
    }
  });
});

describe('TableDigester', () => {
  const digestOf = (table: TransferTable, rows: unknown[][]) => {
    const digester = new TableDigester(table);
    digester.add(rows as never);
    return digester.digest();
  };
  const versions = transferTable('secret_versions');
  const row = (sealed: Buffer, position = 1) => ['arn', 'v1', position, '[]', sealed, 'string', 1000, null];

  it('changes the sealed checksum when one bit of a blob changes, and ignores positions', () => {
    const blob = Buffer.from('sealed value bytes');
    const flipped = Buffer.from(blob);
    flipped[0]! ^= 1;
    assert.notEqual(digestOf(versions, [row(blob)]).sealedSha256, digestOf(versions, [row(flipped)]).sealedSha256);
    assert.deepEqual(digestOf(versions, [row(blob, 1)]), digestOf(versions, [row(blob, 77)]));
  });

  it('frames values: moving a character between adjacent values, or null against empty, changes the row checksum', () => {
    const tags = transferTable('secret_tags');
    assert.notEqual(digestOf(tags, [['a', 'bc', 'd']]).rowsSha256, digestOf(tags, [['ab', 'c', 'd']]).rowsSha256);
    const audit = transferTable('audit_events');
    const event = (names: string[]) => [1, 'e', 'acct', 0, 'n', 's', true, '', '', names, '{}', 'p', 'h'];
    assert.notEqual(digestOf(audit, [event(['ab', 'c'])]).rowsSha256, digestOf(audit, [event(['a', 'bc'])]).rowsSha256);
    const grants = transferTable('kms_grants');
    const grant = (name: string | null) => ['g', 'k', 'arn', name, 'p', null, 'a', '[]', null, 'f', 0];
    assert.notEqual(digestOf(grants, [grant(null)]).rowsSha256, digestOf(grants, [grant('')]).rowsSha256);
  });
});

describe('migrateStore guards', () => {
  let database: { url: string; drop(): Promise<void> };
  before(async () => {
    database = await createTestDatabase();
  });
  after(async () => database.drop());

  it('refuses a source holding a column the catalog lacks, before touching the target', async () => {
    const { dir, store } = sqliteDataDir('uncatalogued');
    store.close();
    const db = new Database(join(dir, 'coffer.db'));
    db.exec('ALTER TABLE secrets ADD COLUMN favourite_colour TEXT');
    db.close();
    await assert.rejects(migrateStore({ from: dir, to: join(workDir, 'never-made') }), (error: Error) => {
      assert.ok(error instanceof MigrateRefusedError);
      assert.match(error.message, /secrets\.favourite_colour/);
      return true;
    });
    assert.equal(existsSync(join(workDir, 'never-made')), false, 'the target data dir was not even created');
  });

  it('a copy that fails half-way (PostgreSQL refuses a NUL in text) leaves the target empty, so it can be run again', async () => {
    const { dir, store } = sqliteDataDir('nul');
    try {
      const secret = newSecret('000000000000', 'with-nul');
      await store.createSecret(secret, [{ TagKey: 'ok', TagValue: 'fine' }]);
    } finally {
      store.close();
    }
    const db = new Database(join(dir, 'coffer.db'));
    db.prepare("UPDATE secret_tags SET tag_value = 'a' || char(0) || 'b'").run();
    db.close();
    await assert.rejects(migrateStore({ from: dir, to: database.url }), /0x00|invalid byte sequence/);
    const target = new PostgresStore({ connectionString: database.url, poolSize: 1 });
    try {
      assert.deepEqual(await target.transfer().occupiedTables(), [], 'nothing committed');
    } finally {
      await target.close();
    }
    const fixed = new Database(join(dir, 'coffer.db'));
    fixed.prepare("UPDATE secret_tags SET tag_value = 'ab'").run();
    fixed.close();
    const report = await migrateStore({ from: dir, to: database.url });
    assert.equal(report.tables.find((table) => table.table === 'secret_tags')!.rows, 1);
  });
});
