import pg from 'pg';
import { PostgresStore, type PostgresStoreOptions } from '../../src/store/postgres/index.js';
import { randomName } from './databases.js';

/** The machine's PostgreSQL: trust authentication for user postgres on 127.0.0.1:5432. */
const SERVER = 'postgres://postgres@127.0.0.1:5432';

/** Runs one statement on the server's `postgres` database (CREATE / DROP DATABASE). */
async function onServer(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: `${SERVER}/postgres` });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** A new empty database <prefix><random> (coffer_test_ unless told); drop() removes it, ending any connection still open to it. */
export async function createTestDatabase(prefix = 'coffer_test_'): Promise<{ url: string; drop(): Promise<void> }> {
  const name = randomName(prefix, 8);
  await onServer(`CREATE DATABASE ${name}`);
  return {
    url: `${SERVER}/${name}`,
    drop: () => onServer(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

/** A PostgresStore on a fresh database (unmigrated); dispose closes it and drops the database. */
export async function openPostgresStore(options: Omit<PostgresStoreOptions, 'connectionString'> = {}) {
  const database = await createTestDatabase();
  const store = new PostgresStore({ ...options, connectionString: database.url });
  return {
    store,
    url: database.url,
    async dispose() {
      await store.close();
      await database.drop();
    },
  };
}
