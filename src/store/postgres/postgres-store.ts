import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { MetaRepository } from '../repositories/meta.js';
import type { StoreLifecycle } from '../store.js';
import { PostgresMetaTables } from './meta-tables.js';
import { applyPostgresMigrations } from './migration-runner.js';
import { postgresMigrations } from './migrations.js';
import { inTransaction, type Sql } from './transaction.js';

export type PostgresStoreOptions = {
  /** postgres://USER@HOST:PORT/DB (and what else pg accepts in a connection string). */
  connectionString: string;
  /** Connections kept by this process's pool (default 10): the bound on its concurrent transactions. */
  poolSize?: number;
};

/** The repositories the PostgreSQL backend implements so far; the rest of Store is still to port. */
export type PostgresRepositories = StoreLifecycle & MetaRepository;

/** BIGINT (int8) columns hold epoch milliseconds and counts, all within Number's exact range. */
const INT8_OID = 20;
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/**
 * The PostgreSQL backend (in progress): a pg.Pool, every method one SERIALIZABLE transaction retried on
 * serialization failure (transaction.ts), and a migration runner several nodes may run together
 * (migration-runner.ts). Each repository's SQL lives in its own `<domain>-tables.ts`, as in the SQLite backend.
 */
export class PostgresStore implements PostgresRepositories {
  readonly #pool: pg.Pool;
  readonly #meta: PostgresMetaTables;
  /** Names this process in the migrations lock row, for whoever inspects a stuck start. */
  readonly #owner = `coffer-${process.pid}-${randomUUID()}`;
  #closed = false;

  constructor(options: PostgresStoreOptions) {
    this.#pool = new pg.Pool({ connectionString: options.connectionString, max: options.poolSize ?? 10, types });
    // An idle connection the server drops (restart, failover) is an 'error' event: without a listener it
    // would end the process. The pool discards that connection and opens another on the next query.
    this.#pool.on('error', () => undefined);
    const transaction = <T>(body: (sql: Sql) => Promise<T>) => inTransaction(this.#pool, body);
    this.#meta = new PostgresMetaTables(transaction);
  }

  async migrate(): Promise<void> {
    await applyPostgresMigrations(this.#pool, postgresMigrations, this.#owner);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }

  getMeta(name: string): Promise<Buffer | undefined> {
    return this.#meta.getMeta(name);
  }

  putMetaIfAbsent(name: string, value: Buffer): Promise<Buffer> {
    return this.#meta.putMetaIfAbsent(name, value);
  }
}
