import { inTransaction, type Pool, type Sql } from './transaction.js';

/** One schema change: applied once, in id order, and recorded. Never edit one that has shipped; add a new one. */
export type PostgresMigration = { id: number; name: string; sql: string };

/**
 * Applies the migrations not yet recorded in `schema_migrations`, in order, in one transaction, so that
 * several nodes starting together apply each exactly once.
 *
 * How: the transaction first updates the one row of `schema_migrations_lock`. That row lock makes a second
 * node's migration transaction wait until the first commits; the second then fails with a serialization
 * failure (its snapshot predates the first's commit) and inTransaction runs it again, when it reads every
 * migration as applied and does nothing. A row lock plus the 40001 retry is used rather than an advisory
 * lock (pg_advisory_lock), which CockroachDB, YugabyteDB and Aurora DSQL do not have. The primary key of
 * `schema_migrations` is the backstop: a migration recorded twice fails the transaction.
 *
 * A database already up to date is only read, so every node may call this on every start.
 */
export async function applyPostgresMigrations(pool: Pool, migrations: readonly PostgresMigration[], owner: string): Promise<void> {
  if ((await pendingMigrations(pool, migrations)).length === 0) return;
  await createBookkeeping(pool);
  await inTransaction(pool, async (sql) => {
    await sql.run('UPDATE schema_migrations_lock SET holder = $1, taken_at = $2 WHERE id = 1', [owner, Date.now()]);
    const applied = await appliedIds(sql);
    for (const migration of migrations.filter((candidate) => !applied.has(candidate.id))) {
      await sql.run(migration.sql);
      await sql.run('INSERT INTO schema_migrations (id, name, applied_at) VALUES ($1, $2, $3)', [migration.id, migration.name, Date.now()]);
    }
  });
}

/**
 * The record table and the lock row. Each statement is idempotent; two nodes creating the same table at the
 * same moment can still collide in PostgreSQL's catalog (unique_violation, duplicate_table, duplicate_object:
 * 'type "schema_migrations" already exists'), which only means the other node created it, so the statements
 * are simply run again.
 */
const CATALOG_RACE_SQLSTATES = new Set(['23505', '42P07', '42710']);

async function createBookkeeping(pool: Pool): Promise<void> {
  const statements = [
    'CREATE TABLE IF NOT EXISTS schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)',
    'CREATE TABLE IF NOT EXISTS schema_migrations_lock (id INTEGER PRIMARY KEY, holder TEXT, taken_at BIGINT)',
    'INSERT INTO schema_migrations_lock (id) VALUES (1) ON CONFLICT (id) DO NOTHING',
  ];
  for (let attempt = 1; ; attempt++) {
    try {
      for (const statement of statements) await pool.unsafe(statement);
      return;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (attempt >= 5 || !CATALOG_RACE_SQLSTATES.has(code ?? '')) throw error;
    }
  }
}

async function pendingMigrations(pool: Pool, migrations: readonly PostgresMigration[]): Promise<PostgresMigration[]> {
  const applied = await inTransaction(pool, appliedIds);
  return migrations.filter((migration) => !applied.has(migration.id));
}

async function appliedIds(sql: Sql): Promise<Set<number>> {
  const exists = await sql.one("SELECT to_regclass('schema_migrations') IS NOT NULL AS present");
  if (!exists?.present) return new Set();
  return new Set((await sql.rows('SELECT id FROM schema_migrations')).map((row) => Number(row.id)));
}
