import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import postgres from 'postgres';
import { AwsError } from '../../src/core/index.js';
import { chainHash } from '../../src/store/audit-hash.js';
import { PostgresStore } from '../../src/store/postgres/index.js';
import { PostgresAuditTables } from '../../src/store/postgres/audit-tables.js';
import { driverOptions } from '../../src/store/postgres/postgres-store.js';
import { autocommitStatement, inTransaction, type Sql } from '../../src/store/postgres/transaction.js';
import type { AuditEventDraft, AuditEventRecord } from '../../src/store/records.js';
import { createTestDatabase } from '../helpers/postgres-store.js';

/**
 * The PostgreSQL audit append's two ways (audit-tables.ts): one autocommit INSERT after the end this node wrote
 * last, else the transaction that reads the end. What must hold whichever way an append goes: one chain, never
 * forked, no event twice or lost, and nothing left behind by an insert that was refused.
 */

let drafted = 0;
function draft(label: string): AuditEventDraft {
  drafted += 1;
  return {
    eventId: `${label}-${drafted}`,
    accountId: '121212121212',
    eventTime: new Date(1_700_000_000_000 + drafted),
    eventName: 'GetSecretValue',
    eventSource: 'secretsmanager.amazonaws.com',
    readOnly: true,
    accessKeyId: 'AKIAAPPEND',
    username: 'root',
    resourceNames: [`secret-${drafted}`],
    body: JSON.stringify({ label, n: drafted }),
  };
}

/** Every event of the log, checked as one unforked chain: sequences 1…n, each prevHash the hash before, each hash its own. */
async function wholeChain(store: PostgresStore): Promise<AuditEventRecord[]> {
  const chain = await store.listAuditEvents(0, 100_000);
  chain.forEach((event, index) => {
    assert.equal(event.sequence, index + 1, `no gap at ${index + 1}`);
    if (index > 0) assert.equal(event.prevHash, chain[index - 1]!.hash, `event ${event.sequence} follows event ${index}`);
    assert.equal(event.hash, chainHash(event.prevHash, event.body), `event ${event.sequence} is sealed`);
  });
  assert.equal(new Set(chain.map((event) => event.eventId)).size, chain.length, 'no event twice');
  return chain;
}

/** An event of "another node", inserted with raw SQL in a transaction of its own left open: sealed after `end`. */
async function openForeignInsert(pool: postgres.Sql, end: AuditEventRecord) {
  const foreign = draft('foreign');
  const hash = chainHash(end.hash, foreign.body);
  let commit!: (outcome: 'commit' | 'rollback') => void;
  const decided = new Promise<'commit' | 'rollback'>((resolve) => (commit = resolve));
  let inserted!: () => void;
  const insertedNow = new Promise<void>((resolve) => (inserted = resolve));
  const transaction = pool
    .begin(async (sql) => {
      await sql.unsafe(
        `INSERT INTO audit_events (sequence, event_id, account_id, event_time, event_name, event_source, read_only, access_key_id, username, resource_names, body, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, convert_to($11, 'UTF8'), decode($12, 'hex'), decode($13, 'hex'))`,
        [end.sequence + 1, foreign.eventId, foreign.accountId, foreign.eventTime.getTime(), foreign.eventName, foreign.eventSource, foreign.readOnly,
          foreign.accessKeyId, foreign.username, foreign.resourceNames, foreign.body, end.hash, hash],
      );
      inserted();
      if ((await decided) === 'rollback') throw new Error('rolled back on purpose');
    })
    .catch((error: Error) => {
      if (error.message !== 'rolled back on purpose') throw error;
    });
  await insertedNow;
  return { eventId: foreign.eventId, end: (outcome: 'commit' | 'rollback') => (commit(outcome), transaction) };
}

/** Statements counted by how they ran: inside a transaction, or as one autocommit statement. */
type Counts = { transactions: number; autocommits: number };

describe('PostgreSQL audit append: one statement after the known end, else the transaction', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let store: PostgresStore;
  let pool: postgres.Sql;
  before(async () => {
    database = await createTestDatabase();
    store = new PostgresStore({ connectionString: database.url, poolSize: 4 });
    await store.migrate();
    // The store's own driver options (BIGINT as numbers above all), so these nodes run as a store's audit tables do.
    pool = postgres(database.url, { ...driverOptions({ connectionString: database.url }), max: 4 });
  });
  after(async () => {
    await store.close();
    await pool.end({ timeout: 5 });
    await database.drop();
  });

  /** Audit tables of their own node on the test database, counting how each append ran (the real pool and SQL underneath). */
  function countingNode(options: { commitWaitMs?: number } = {}) {
    const counts: Counts = { transactions: 0, autocommits: 0 };
    const tables = new PostgresAuditTables(
      <T>(body: (sql: Sql) => Promise<T>) => ((counts.transactions += 1), inTransaction(pool, body, options)),
      <T>(body: (sql: Sql) => Promise<T>) => ((counts.autocommits += 1), autocommitStatement(pool, body, options)),
    );
    return { tables, counts };
  }

  it('a node appends after its first append without a transaction: one autocommit statement per batch', async () => {
    const { tables, counts } = countingNode();
    await tables.appendAuditEvents([draft('first')]);
    assert.deepEqual(counts, { transactions: 1, autocommits: 0 }, 'the end is unknown at first: read in a transaction');
    for (let batch = 0; batch < 5; batch++) await tables.appendAuditEvents([draft('next'), draft('next')]);
    assert.deepEqual(counts, { transactions: 1, autocommits: 5 });
    await wholeChain(store);
  });

  it("when another node appended, the one-statement append is refused, leaves nothing, and goes again in one statement after the other node's events", async () => {
    const a = countingNode();
    const b = countingNode();
    await a.tables.appendAuditEvents([draft('a')]);
    const [bEvent] = await b.tables.appendAuditEvents([draft('b')]);
    const before = { ...a.counts };
    const [aEvent] = await a.tables.appendAuditEvents([draft('a-after-b')]);
    assert.deepEqual(a.counts, { transactions: before.transactions, autocommits: before.autocommits + 2 }, 'refused, then sealed after the end the refusal named');
    assert.equal(aEvent!.sequence, bEvent!.sequence + 1);
    assert.equal(aEvent!.prevHash, bEvent!.hash);
    const chain = await wholeChain(store);
    assert.equal(chain.filter((event) => event.eventId === aEvent!.eventId).length, 1, 'the refused statement inserted nothing');
    assert.equal(chain.at(-1)!.eventId, aEvent!.eventId);
  });

  it('an append after the same end that is not committed yet: the primary key refuses ours once it commits (23505), and we seal after it', async () => {
    const { tables, counts } = countingNode();
    const [known] = await tables.appendAuditEvents([draft('known')]);
    const foreign = await openForeignInsert(pool, known!);
    const before = { ...counts };
    const appending = tables.appendAuditEvents([draft('waits'), draft('waits')]);
    await sleep(200); // our INSERT now waits on the foreign row's sequence
    await foreign.end('commit');
    const appended = await appending;
    assert.deepEqual(counts, { transactions: before.transactions + 1, autocommits: before.autocommits + 1 });
    assert.deepEqual(appended.map((event) => event.sequence), [known!.sequence + 2, known!.sequence + 3]);
    const chain = await wholeChain(store);
    assert.equal(chain[known!.sequence]!.eventId, foreign.eventId);
  });

  it('when that other append rolls back, ours goes in its place, still in one statement', async () => {
    const { tables, counts } = countingNode();
    const [known] = await tables.appendAuditEvents([draft('known')]);
    const foreign = await openForeignInsert(pool, known!);
    const before = { ...counts };
    const appending = tables.appendAuditEvents([draft('after-rollback')]);
    await sleep(200);
    await foreign.end('rollback');
    const [appended] = await appending;
    assert.deepEqual(counts, { transactions: before.transactions, autocommits: before.autocommits + 1 });
    assert.equal(appended!.sequence, known!.sequence + 1);
    assert.ok((await wholeChain(store)).every((event) => event.eventId !== foreign.eventId));
  });

  it("a transaction append that read the end before a one-statement append committed the next sequence runs again after it", async () => {
    const first = countingNode();
    const [known] = await first.tables.appendAuditEvents([draft('known')]);
    // A node that does not know the end: its append reads it in a transaction, sees `known` (the foreign row is not
    // committed), inserts the same next sequence, waits on it, and gets 23505 when the foreign row commits.
    const fresh = countingNode();
    const foreign = await openForeignInsert(pool, known!);
    const appending = fresh.tables.appendAuditEvents([draft('fresh')]);
    await sleep(200);
    await foreign.end('commit');
    const [appended] = await appending;
    assert.equal(fresh.counts.autocommits, 0);
    assert.ok(fresh.counts.transactions >= 2, `the transaction ran again (${fresh.counts.transactions})`);
    assert.equal(appended!.sequence, known!.sequence + 2);
    await wholeChain(store);
  });

  it('the end this node wrote, replaced by another chain with the same sequence (a copy restored): refused by its hash', async () => {
    const { tables, counts } = countingNode();
    const [known] = await tables.appendAuditEvents([draft('known')]);
    const other = draft('restored');
    await pool.unsafe("UPDATE audit_events SET hash = decode($1, 'hex') WHERE sequence = $2", [chainHash(known!.prevHash, other.body), known!.sequence]);
    await pool.unsafe("UPDATE audit_events SET body = convert_to($1, 'UTF8'), event_id = $2 WHERE sequence = $3", [other.body, other.eventId, known!.sequence]);
    const before = { ...counts };
    const [appended] = await tables.appendAuditEvents([draft('after-restore')]);
    assert.deepEqual(counts, { transactions: before.transactions, autocommits: before.autocommits + 2 });
    assert.equal(appended!.prevHash, chainHash(known!.prevHash, other.body), 'sealed after the end as it is, not as remembered');
    await wholeChain(store);
  });

  it('a one-statement append not answered within the commit deadline is a retryable 503; the next append seals after whatever it left', async () => {
    const { tables, counts } = countingNode({ commitWaitMs: 100 });
    const [known] = await tables.appendAuditEvents([draft('known')]);
    const foreign = await openForeignInsert(pool, known!);
    const late = draft('late');
    await assert.rejects(tables.appendAuditEvents([late]), (error: unknown) => error instanceof AwsError && error.code === 'ServiceUnavailable');
    // The late INSERT still waits at the server; the foreign row goes away and it commits, unanswered.
    await foreign.end('rollback');
    for (let waited = 0; (await store.listAuditEvents(known!.sequence, 1)).length === 0 && waited < 5_000; waited += 20) await sleep(20);
    const before = { ...counts };
    const [next] = await tables.appendAuditEvents([draft('next')]);
    assert.equal(counts.transactions, before.transactions + 1, 'after a failure the end is read, not assumed');
    const chain = await wholeChain(store);
    assert.equal(chain[known!.sequence]!.eventId, late.eventId, 'the late statement committed after the 503');
    assert.equal(next!.sequence, known!.sequence + 2);
  });

  it('a log emptied under a node that knows its end: the statement finds no end, inserts nothing, and the transaction starts the chain again', async () => {
    const { tables, counts } = countingNode();
    await tables.appendAuditEvents([draft('before-emptied')]);
    await pool.unsafe('DELETE FROM audit_events');
    const before = { ...counts };
    const [first] = await tables.appendAuditEvents([draft('first-again')]);
    assert.deepEqual(counts, { transactions: before.transactions + 1, autocommits: before.autocommits + 1 });
    assert.equal(first!.sequence, 1);
    assert.equal((await wholeChain(store)).length, 1);
  });

  it('several nodes appending at once, each mostly in one statement, make one unforked chain with every event once', async () => {
    const nodes = Array.from({ length: 3 }, () => countingNode());
    const existing = (await store.listAuditEvents(0, 100_000)).length;
    const sent: string[] = [];
    await Promise.all(
      nodes.map(async (node, n) => {
        for (let round = 0; round < 15; round++) {
          const batch = Array.from({ length: 2 + (round % 3) }, () => draft(`node${n}`));
          sent.push(...batch.map((event) => event.eventId));
          await Promise.all([node.tables.appendAuditEvents(batch.slice(0, 1)), node.tables.appendAuditEvents(batch.slice(1))]);
        }
      }),
    );
    const chain = await wholeChain(store);
    assert.equal(chain.length, existing + sent.length);
    assert.deepEqual(new Set(chain.slice(existing).map((event) => event.eventId)), new Set(sent));
    assert.ok(nodes.some((node) => node.counts.autocommits > 0), 'the one-statement way was taken');
  });
});

describe('autocommitStatement', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let pool: postgres.Sql;
  before(async () => {
    database = await createTestDatabase();
    pool = postgres(database.url, { max: 2, onnotice: () => undefined });
  });
  beforeEach(async () => {
    await pool.unsafe('CREATE TABLE IF NOT EXISTS t (x int PRIMARY KEY)');
  });
  after(async () => {
    await pool.end({ timeout: 5 });
    await database.drop();
  });

  it('commits its one statement on its own, and refuses a second', async () => {
    assert.equal(await autocommitStatement(pool, (sql) => sql.run('INSERT INTO t VALUES ($1)', [1])), 1);
    assert.equal((await pool.unsafe('SELECT count(*)::int AS n FROM t'))[0]!.n, 1);
    await assert.rejects(
      autocommitStatement(pool, async (sql) => {
        await sql.run('INSERT INTO t VALUES ($1)', [2]);
        return sql.run('INSERT INTO t VALUES ($1)', [3]);
      }),
      /exactly one statement/,
    );
    assert.deepEqual((await pool.unsafe('SELECT x FROM t ORDER BY x')).map((row) => row.x), [1, 2]);
  });

  it('a statement past the deadline answers a retryable 503 without waiting for it', async () => {
    const started = Date.now();
    await assert.rejects(
      autocommitStatement(pool, (sql) => sql.run('SELECT pg_sleep($1)', [1]), { commitWaitMs: 100 }),
      (error: unknown) => error instanceof AwsError && error.code === 'ServiceUnavailable',
    );
    assert.ok(Date.now() - started < 900, 'answered at the deadline');
  });

  it("the database's own errors reach the caller as they are", async () => {
    await assert.rejects(autocommitStatement(pool, (sql) => sql.run('INSERT INTO t VALUES ($1)', [1])), (error: unknown) => (error as { code?: string }).code === '23505');
  });
});
