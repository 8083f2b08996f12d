import type { MetaRepository } from '../repositories/meta.js';
import type { RunInTransaction } from './postgres-tables.js';

/** Deployment-wide values (MetaRepository) in PostgreSQL. */
export class PostgresMetaTables implements MetaRepository {
  readonly #transaction: RunInTransaction;

  constructor(transaction: RunInTransaction) {
    this.#transaction = transaction;
  }

  /** Works on an unmigrated database: no meta table yet reads as absent. */
  async getMeta(name: string): Promise<Buffer | undefined> {
    return this.#transaction(async (sql) => {
      const exists = await sql.one("SELECT to_regclass('meta') IS NOT NULL AS present");
      if (!exists?.present) return undefined;
      return (await sql.one('SELECT value FROM meta WHERE name = $1', [name]))?.value;
    });
  }

  async putMetaIfAbsent(name: string, value: Buffer): Promise<Buffer> {
    return this.#transaction(async (sql) => {
      await sql.run('INSERT INTO meta (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [name, value]);
      return (await sql.one('SELECT value FROM meta WHERE name = $1', [name]))!.value;
    });
  }

  async replaceMeta(name: string, expected: Buffer, replacement: Buffer | undefined): Promise<boolean> {
    return this.#transaction(async (sql) =>
      replacement === undefined
        ? (await sql.run('DELETE FROM meta WHERE name = $1 AND value = $2', [name, expected])) === 1
        : (await sql.run('UPDATE meta SET value = $1 WHERE name = $2 AND value = $3', [replacement, name, expected])) === 1,
    );
  }
}
