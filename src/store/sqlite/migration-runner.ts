import type { Database } from 'better-sqlite3';

/** One schema change: applied once, in id order, and recorded. Never edit one that has shipped; add a new one. */
export type Migration = { id: number; name: string; sql: string };

/**
 * Applies the migrations not yet recorded in `recordTable` of this database, in order, in one IMMEDIATE
 * transaction: two processes starting together apply each migration once. A database already up to date is
 * only read (no write lock taken), so every opener of a file may call this.
 */
export function applyMigrations(db: Database, migrations: readonly Migration[], recordTable: string): void {
  if (pendingMigrations(db, migrations, recordTable).length === 0) return;
  db.transaction(() => {
    db.exec(`CREATE TABLE IF NOT EXISTS ${recordTable} (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
    const record = db.prepare(`INSERT INTO ${recordTable} (id, name, applied_at) VALUES (?, ?, ?)`);
    for (const migration of pendingMigrations(db, migrations, recordTable)) {
      db.exec(migration.sql);
      record.run(migration.id, migration.name, Date.now());
    }
  }).immediate();
}

function pendingMigrations(db: Database, migrations: readonly Migration[], recordTable: string): Migration[] {
  const recorded = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(recordTable);
  const applied = new Set(recorded ? (db.prepare(`SELECT id FROM ${recordTable}`).pluck().all() as number[]) : []);
  return migrations.filter((migration) => !applied.has(migration.id));
}
