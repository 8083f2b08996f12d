import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import postgres from 'postgres';
import { PostgresStore } from '../../src/store/postgres/index.js';
import { outsideTransaction } from '../../src/store/postgres/transaction.js';
import { createTestDatabase, openPostgresStore } from '../helpers/postgres-store.js';
import { runConformanceSuites } from './conformance.js';
import { newSecret, newVersion } from './sample-records.js';

/**
 * Every repository's conformance suite against the machine's PostgreSQL (each suite gets a fresh database,
 * dropped afterwards), then what only a shared database shows: several nodes migrating, claiming and
 * appending at once.
 */
runConformanceSuites('postgres', () => openPostgresStore());

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

describe('PostgreSQL transactions', () => {
  let opened: Awaited<ReturnType<typeof openPostgresStore>>;
  before(async () => {
    opened = await openPostgresStore({ poolSize: 8 });
    await opened.store.migrate();
  });
  after(async () => opened.dispose());

  it('concurrent read-decide-write calls are serialized: a key limit holds, losers retried on 40001', async () => {
    const account = '555555555555';
    const rootKey = (id: string) => ({ accessKeyId: id, accountId: account, principalArn: `arn:aws:iam::${account}:root`, sealedSecret: Buffer.alloc(40, 1), createdAt: new Date() });
    // Open every pooled connection first, so the eight transactions below really overlap.
    await Promise.all(Array.from({ length: 8 }, () => opened.store.listRootAccessKeys(account)));
    const outcomes = await Promise.all(Array.from({ length: 8 }, (_, index) => opened.store.insertRootAccessKey(rootKey(`AKIARACE${index}`), 2)));
    assert.equal(outcomes.filter(Boolean).length, 2);
    assert.equal((await opened.store.listRootAccessKeys(account)).length, 2);
  });

  it('of several nodes claiming a due rotation run at once, exactly one gets the lease', async () => {
    const secret = newSecret('666666666666', 'raced');
    await opened.store.createSecret(secret, []);
    const now = new Date(1_700_000_000_000);
    await opened.store.startRotationRun({ secretArn: secret.arn, token: 't', status: 'running', step: 'createSecret', attempts: 0, startedAt: now, updatedAt: now, nextAttemptAt: now, leaseEpoch: 0 });
    await Promise.all(Array.from({ length: 8 }, () => opened.store.getOpenRotationRun(secret.arn)));
    const claims = await Promise.all(Array.from({ length: 8 }, (_, node) => opened.store.claimRotationRun(now, `node-${node}`, 60_000)));
    const winners = claims.filter((claim) => claim !== undefined);
    assert.equal(winners.length, 1);
    assert.equal((await opened.store.getOpenRotationRun(secret.arn))?.leaseOwner, winners[0]!.leaseOwner);
    assert.equal(winners[0]!.leaseEpoch, 1, 'one claim, one epoch');
  });

  it('appends from several nodes at once make one unforked audit chain', async () => {
    const nodes = [opened.store, new PostgresStore({ connectionString: opened.url, poolSize: 4 }), new PostgresStore({ connectionString: opened.url, poolSize: 4 })];
    try {
      const draft = (node: number, index: number) => ({
        eventId: `e-${node}-${index}`,
        accountId: '777777777777',
        eventTime: new Date(1_700_000_000_000),
        eventName: 'PutSecretValue',
        eventSource: 'secretsmanager.amazonaws.com',
        readOnly: false,
        accessKeyId: 'AKIA1',
        username: 'root',
        resourceNames: [],
        body: JSON.stringify({ node, index }),
      });
      await Promise.all(nodes.flatMap((node, n) => Array.from({ length: 6 }, (_, index) => node.appendAuditEvent(draft(n, index)))));
      const chain = await opened.store.listAuditEvents(0, 100);
      assert.deepEqual(chain.map((event) => event.sequence), Array.from({ length: 18 }, (_, index) => index + 1));
      for (let index = 1; index < chain.length; index++) assert.equal(chain[index]!.prevHash, chain[index - 1]!.hash);
    } finally {
      await Promise.all(nodes.slice(1).map((node) => node.close()));
    }
  });

  it('a group-commit batch of 450 events (one INSERT) appends as one unbroken chain, resource names kept', async () => {
    const before = (await opened.store.listAuditEvents(0, 100_000)).at(-1)?.sequence ?? 0;
    const drafts = Array.from({ length: 450 }, (_, index) => ({
      eventId: `batch-${index}`,
      accountId: '888888888888',
      eventTime: new Date(1_700_000_000_000 + index),
      eventName: 'GetSecretValue',
      eventSource: 'secretsmanager.amazonaws.com',
      readOnly: true,
      accessKeyId: 'AKIA2',
      username: 'root',
      resourceNames: [`secret-${index}`, 'shared'],
      body: JSON.stringify({ index }),
    }));
    const appended = await opened.store.appendAuditEvents(drafts);
    assert.deepEqual(appended.map((event) => event.sequence), drafts.map((_, index) => before + index + 1));
    const stored = await opened.store.listAuditEvents(before, 1_000);
    assert.equal(stored.length, 450);
    assert.equal(stored[0]!.prevHash, before === 0 ? stored[0]!.prevHash : (await opened.store.listAuditEvents(before - 1, 1))[0]!.hash);
    for (let index = 1; index < stored.length; index++) assert.equal(stored[index]!.prevHash, stored[index - 1]!.hash);
    assert.deepEqual(stored[449]!.resourceNames, ['secret-449', 'shared']);
    assert.deepEqual(stored.map((event) => event.eventId), drafts.map((draft) => draft.eventId));
  });
});

describe('PostgreSQL point reads outside a transaction', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let pool: postgres.Sql;
  before(async () => {
    database = await createTestDatabase();
    pool = postgres(database.url, { max: 2, onnotice: () => undefined });
  });
  after(async () => {
    await pool.end({ timeout: 5 });
    await database.drop();
  });

  it('runs its one SELECT with no BEGIN before it (the statement is its own transaction)', async () => {
    const row = await outsideTransaction(pool, (sql) => sql.one('SELECT xact_start = query_start AS alone FROM pg_stat_activity WHERE pid = pg_backend_pid()'));
    assert.equal(row?.alone, true);
  });

  it('refuses a second statement and a statement that writes', async () => {
    await assert.rejects(
      outsideTransaction(pool, async (sql) => {
        await sql.one('SELECT 1');
        return sql.one('SELECT 2');
      }),
      /exactly one SELECT/,
    );
    await assert.rejects(outsideTransaction(pool, (sql) => sql.run('CREATE TABLE t (x int)')), /exactly one SELECT/);
    assert.equal((await pool.unsafe("SELECT to_regclass('t') AS t"))[0]!.t, null);
  });
});

/**
 * Waits until a node of `url`'s database listens for the read cache's notifications (its LISTEN has run), and a
 * little longer: when the listener connects it empties the node's cache (what was missed before is unknown), so a
 * test counting hits and misses starts after that.
 */
async function untilListening(url: string): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => undefined });
  try {
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; await sleep(20)) {
      const [row] = await sql`SELECT count(*)::int AS listeners FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'listen %'`;
      if (row!.listeners > 0) return void (await sleep(100));
    }
    const activity = await sql`SELECT datname, state, query FROM pg_stat_activity WHERE datname = current_database()`;
    assert.fail(`no node of the database started listening within 10 s: ${JSON.stringify(activity)}`);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

describe('PostgreSQL read cache', () => {
  let opened: Awaited<ReturnType<typeof openPostgresStore>>;
  before(async () => {
    opened = await openPostgresStore({ readCacheMaxAgeMs: 60_000 });
    await opened.store.migrate();
    // The first read starts listening; the counts below begin once the listener's connection has emptied the cache.
    await opened.store.getSecretByName('111111111111', 'us-east-1', 'nobody');
    await untilListening(opened.url);
  });
  after(async () => opened.dispose());

  it("a secret read on a miss brings its AWSCURRENT version in the same statement: GetSecretValue's second read is a hit", async () => {
    const { store } = opened;
    const secret = newSecret('111111111111', 'prefetched');
    const first = newVersion(secret.arn);
    await store.createSecret(secret, [], first);
    const before = store.readCacheStats();
    const found = await store.getSecretByName(secret.accountId, secret.region, secret.name);
    assert.equal(found?.arn, secret.arn);
    const current = await store.getSecretVersionByStage(secret.arn, 'AWSCURRENT');
    assert.equal(current?.versionId, first.versionId);
    assert.deepEqual(current?.stages, ['AWSCURRENT']);
    assert.deepEqual(current?.sealedValue, first.sealedValue);
    assert.deepEqual(current?.dataKeys, first.dataKeys);
    // And the secret under its ARN, read by name in the same statement.
    assert.equal((await store.getSecretByArn(secret.arn))?.name, secret.name);
    const after = store.readCacheStats();
    assert.equal(after.misses - before.misses, 1, 'one read of the database');
    assert.equal(after.hits - before.hits, 2);
    // A write empties the cache; the version read by stage after it is the new one.
    const second = newVersion(secret.arn);
    await store.putSecretVersion(second, () => ({ moves: [{ stage: 'AWSCURRENT', versionId: second.versionId }], deleteVersions: [] }), new Date());
    await store.getSecretByArn(secret.arn);
    assert.equal((await store.getSecretVersionByStage(secret.arn, 'AWSCURRENT'))?.versionId, second.versionId);
  });

  it('a secret without an AWSCURRENT version is found, and its version read finds none', async () => {
    const { store } = opened;
    const secret = newSecret('111111111111', 'no-versions');
    await store.createSecret(secret, []);
    assert.equal((await store.getSecretByArn(secret.arn))?.name, secret.name);
    assert.equal(await store.getSecretVersionByStage(secret.arn, 'AWSCURRENT'), undefined);
  });
});

describe('PostgreSQL read cache across nodes (LISTEN/NOTIFY)', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let writer: PostgresStore;
  let reader: PostgresStore;
  before(async () => {
    database = await createTestDatabase();
    writer = new PostgresStore({ connectionString: database.url, readCacheMaxAgeMs: 300 });
    // A max age far beyond the test's waits: only hearing the writer's write can make this node see it in time.
    reader = new PostgresStore({ connectionString: database.url, readCacheMaxAgeMs: 5_000 });
    await writer.migrate();
    await reader.migrate();
  });
  after(async () => {
    await writer.close();
    await reader.close();
    await database.drop();
  });

  it('an entry outlives its max age while the node hears every write: a read a second later is still a hit', async () => {
    const secret = newSecret('111111111111', 'long-lived');
    await writer.createSecret(secret, [], newVersion(secret.arn));
    // The first read starts listening, and listening empties the cache (what was missed before is unknown).
    await writer.getSecretByArn(secret.arn);
    await sleep(200);
    await writer.getSecretByArn(secret.arn);
    await sleep(1_000);
    const before = writer.readCacheStats();
    assert.equal((await writer.getSecretByArn(secret.arn))?.name, secret.name);
    const after = writer.readCacheStats();
    assert.deepEqual([after.hits - before.hits, after.misses - before.misses], [1, 0]);
  });

  it("another node's committed write empties this node's cache within a ping, long before the entry's max age", async () => {
    const secret = newSecret('111111111111', 'heard');
    const first = newVersion(secret.arn);
    await writer.createSecret(secret, [], first);
    await reader.getSecretByArn(secret.arn);
    assert.equal((await reader.getSecretVersionByStage(secret.arn, 'AWSCURRENT'))?.versionId, first.versionId);
    const second = newVersion(secret.arn);
    await writer.putSecretVersion(second, () => ({ moves: [{ stage: 'AWSCURRENT', versionId: second.versionId }], deleteVersions: [] }), new Date());
    const wroteAt = performance.now();
    let seen: string | undefined;
    while (performance.now() - wroteAt < 1_000) {
      seen = (await reader.getSecretVersionByStage(secret.arn, 'AWSCURRENT'))?.versionId;
      if (seen === second.versionId) break;
      await sleep(20);
    }
    assert.equal(seen, second.versionId, 'seen through the other node within 1 s (its entries may live 5 s by age)');
  });

  it('a write that rolls back is not announced: the other node keeps its entries', async () => {
    const secret = newSecret('111111111111', 'rolled-back');
    await writer.createSecret(secret, [], newVersion(secret.arn));
    // Heard after it committed, the creation empties the reader's cache: read once that has happened.
    await sleep(300);
    await reader.getSecretByArn(secret.arn);
    const refused = newVersion(secret.arn);
    await assert.rejects(writer.putSecretVersion(refused, () => { throw new Error('refused'); }, new Date()), /refused/);
    await sleep(300);
    const before = reader.readCacheStats();
    await reader.getSecretByArn(secret.arn);
    assert.equal(reader.readCacheStats().hits - before.hits, 1);
  });
});
