import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { PostgresStore } from '../../src/store/postgres/index.js';
import { createTestDatabase, openPostgresStore } from '../helpers/postgres-store.js';
import { conformanceSuites } from './conformance.js';

/**
 * The conformance suites of the repositories the PostgreSQL backend implements so far, against the machine's
 * PostgreSQL: each suite gets a fresh database, dropped afterwards.
 */
conformanceSuites.meta('postgres', () => openPostgresStore());

describe('PostgreSQL migrations', () => {
  let database: { url: string; drop(): Promise<void> };
  before(async () => {
    database = await createTestDatabase();
  });
  after(async () => database.drop());

  it('several nodes migrating together apply each migration exactly once', async () => {
    const nodes = Array.from({ length: 4 }, () => new PostgresStore({ connectionString: database.url, poolSize: 2 }));
    try {
      await Promise.all(nodes.map((node) => node.migrate()));
      await Promise.all(nodes.map((node) => node.migrate()));
      assert.deepEqual(await nodes[0]!.putMetaIfAbsent('m', Buffer.from('x')), Buffer.from('x'));
    } finally {
      await Promise.all(nodes.map((node) => node.close()));
    }
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const { rows } = await client.query('SELECT id, count(*)::int AS times FROM schema_migrations GROUP BY id ORDER BY id');
      assert.ok(rows.length > 0);
      for (const row of rows) assert.equal(row.times, 1, `migration ${row.id}`);
    } finally {
      await client.end();
    }
  });
});
