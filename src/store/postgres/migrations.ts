import type { PostgresMigration } from './migration-runner.js';

/**
 * The PostgreSQL schema, one migration per repository as it is ported (the SQLite schema's tables, same
 * names and columns). Dates are BIGINT epoch milliseconds, as the records' Dates carry milliseconds and the
 * SQLite backend stores them; Buffers are BYTEA; tag lists are JSON text. Uniqueness is a constraint, never
 * a check before an insert.
 */
export const postgresMigrations: readonly PostgresMigration[] = [
  {
    id: 1,
    name: 'meta',
    sql: `
      CREATE TABLE meta (
        name TEXT PRIMARY KEY,
        value BYTEA NOT NULL
      );
    `,
  },
];
