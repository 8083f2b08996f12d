import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import postgres from 'postgres';
import { createFailoverCluster, type FailoverCluster, type ServerRole } from '../../helpers/postgres-failover-cluster.js';

/**
 * The failover harness itself: the standby really is a synchronous streaming replica of the primary, and
 * after the primary dies and the standby is promoted, the multi-host connection string reaches the new
 * primary and writes work. The Coffer failover tests (test/integration/multinode/) rely on all three.
 */

const DATABASE = 'harness';
/** A commit that waits for a standby that never acknowledges would hang the test: fail it instead. */
const TEST_TIMEOUT_MS = 60_000;

/** A client of the multi-host connection string, quiet about NOTICEs, failing a connect within 5 s. */
function connect(cluster: FailoverCluster, targetSessionAttrs: 'read-write' | 'primary' = 'read-write') {
  return postgres(cluster.connectionString(DATABASE, targetSessionAttrs), { max: 2, connect_timeout: 5, onnotice: () => undefined });
}

async function createClusterWithTable(t: { diagnostic(message: string): void }): Promise<FailoverCluster> {
  const started = Date.now();
  const cluster = await createFailoverCluster();
  t.diagnostic(`primary on ${cluster.primaryPort}, standby on ${cluster.standbyPort}, created in ${Date.now() - started} ms`);
  await cluster.createDatabase(DATABASE);
  await cluster.query('primary', 'CREATE TABLE notes (id INTEGER PRIMARY KEY, note TEXT NOT NULL)', [], DATABASE);
  return cluster;
}

/** The notes one server holds, by id. */
async function notesOn(cluster: FailoverCluster, server: ServerRole): Promise<Map<number, string>> {
  const rows = await cluster.query(server, 'SELECT id, note FROM notes ORDER BY id', [], DATABASE);
  return new Map(rows.map((row) => [row.id as number, row.note as string]));
}

/** The standby's notes once it has replayed what the primary wrote (a synchronous commit waits for its flush only). */
async function replayedOnStandby(cluster: FailoverCluster): Promise<Map<number, string>> {
  await cluster.standbyReplayed();
  return notesOn(cluster, 'standby');
}

describe('a primary and its synchronous standby', () => {
  let cluster: FailoverCluster;
  let sql: ReturnType<typeof connect>;

  before(async (t) => {
    cluster = await createClusterWithTable(t);
    sql = connect(cluster);
  });
  after(async () => {
    await sql?.end({ timeout: 1 });
    await cluster?.destroy();
  });

  it('the connection string reaches the primary, and what it commits is on the standby', async () => {
    const [server] = await sql`SELECT inet_server_port() AS port, pg_is_in_recovery() AS recovering`;
    assert.deepEqual({ port: server!.port, recovering: server!.recovering }, { port: cluster.primaryPort, recovering: false });
    const [replica] = await cluster.query('standby', 'SELECT pg_is_in_recovery() AS recovering');
    assert.equal(replica!.recovering, true);
    const replication = await cluster.query('primary', 'SELECT application_name, sync_state FROM pg_stat_replication');
    assert.deepEqual(replication, [{ application_name: 'standby1', sync_state: 'sync' }]);

    await sql`INSERT INTO notes (id, note) VALUES (1, 'replicated')`;
    assert.equal((await replayedOnStandby(cluster)).get(1), 'replicated');
    await assert.rejects(cluster.query('standby', "INSERT INTO notes (id, note) VALUES (2, 'refused')", [], DATABASE), /read-only transaction/);
  });

  it('a commit on the primary waits while the standby is down, and completes once it is back', { timeout: TEST_TIMEOUT_MS }, async () => {
    await cluster.stopStandby();
    const committing = sql`INSERT INTO notes (id, note) VALUES (3, 'waited')`.then(() => 'committed' as const);
    const early = await Promise.race([committing, sleep(1_000).then(() => 'still waiting' as const)]);
    assert.equal(early, 'still waiting');
    const waiting = await cluster.query('primary', "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event = 'SyncRep'");
    assert.equal(waiting[0]!.n, 1);

    await cluster.startStandby();
    assert.equal(await committing, 'committed');
    assert.equal((await replayedOnStandby(cluster)).get(3), 'waited');
  });
});

describe('failover: the primary stopped hard, the standby promoted', () => {
  let cluster: FailoverCluster;
  let sql: ReturnType<typeof connect>;

  before(async (t) => {
    cluster = await createClusterWithTable(t);
    sql = connect(cluster);
  });
  after(async () => {
    await sql?.end({ timeout: 1 });
    await cluster?.destroy();
  });

  it('keeps every acknowledged commit, refuses writes until the promotion, then writes to the new primary', { timeout: TEST_TIMEOUT_MS }, async () => {
    for (let id = 1; id <= 20; id++) await sql`INSERT INTO notes (id, note) VALUES (${id}, ${`before ${id}`})`;

    await cluster.stopPrimaryHard();
    // No server takes writes now: the primary is gone and the standby is read-only. A write fails, fast.
    const refusedAt = Date.now();
    await assert.rejects(sql`INSERT INTO notes (id, note) VALUES (100, 'nowhere')`);
    assert.ok(Date.now() - refusedAt < 10_000, `the refused write took ${Date.now() - refusedAt} ms`);
    // The `primary` form does not even connect: the standby is still in recovery.
    const primaryOnly = connect(cluster, 'primary');
    try {
      await assert.rejects(primaryOnly`SELECT 1`, { code: 'CONNECTION_DESTROYED' });
    } finally {
      await primaryOnly.end({ timeout: 1 });
    }

    await cluster.promoteStandby();
    // The same client reconnects by itself, to the standby's port.
    const [server] = await sql`SELECT inet_server_port() AS port, pg_is_in_recovery() AS recovering`;
    assert.deepEqual({ port: server!.port, recovering: server!.recovering }, { port: cluster.standbyPort, recovering: false });
    const survivors = await notesOn(cluster, 'standby');
    assert.deepEqual([...survivors.keys()], Array.from({ length: 20 }, (_, index) => index + 1));
    assert.equal(survivors.has(100), false);

    await sql`INSERT INTO notes (id, note) VALUES (21, 'after')`;
    const fresh = connect(cluster);
    try {
      const [row] = await fresh`SELECT note FROM notes WHERE id = 21`;
      assert.equal(row!.note, 'after');
      await fresh`INSERT INTO notes (id, note) VALUES (22, 'after, fresh client')`;
    } finally {
      await fresh.end({ timeout: 1 });
    }
    assert.equal((await notesOn(cluster, 'standby')).size, 22);
  });
});

describe('kill -9 of the primary, again and again: promoted, the dead one rebuilt as the new standby', () => {
  let cluster: FailoverCluster;
  let sql: ReturnType<typeof connect>;

  before(async (t) => {
    // Issue 20's crash harness (test/helpers/crash-harness.ts) runs its clusters on 5441–5449; so does this one.
    cluster = await createFailoverCluster({ ports: { base: 5441, spread: 9 } });
    t.diagnostic(`primary on ${cluster.primaryPort}, standby on ${cluster.standbyPort}`);
    await cluster.createDatabase(DATABASE);
    await cluster.query('primary', 'CREATE TABLE notes (id INTEGER PRIMARY KEY, note TEXT NOT NULL)', [], DATABASE);
    sql = connect(cluster);
  });
  after(async () => {
    await sql?.end({ timeout: 1 });
    await cluster?.destroy();
  });

  it('keeps every acknowledged commit through two failovers, and the roles swap each time', { timeout: 2 * TEST_TIMEOUT_MS }, async () => {
    const ports = [cluster.primaryPort, cluster.standbyPort];
    for (let round = 0; round < 2; round++) {
      for (let id = round * 10 + 1; id <= round * 10 + 10; id++) await sql`INSERT INTO notes (id, note) VALUES (${id}, ${`round ${round}`})`;
      const [dead] = await cluster.query('primary', 'SELECT pg_postmaster_start_time()::text AS started, inet_server_port() AS port');
      assert.equal(dead!.port, ports[round % 2]);

      await cluster.killPrimary();
      // Every process of the killed server is gone: nothing answers on its port.
      await assert.rejects(cluster.query('primary', 'SELECT 1'), /ECONNREFUSED/);
      await cluster.promoteStandby();
      // Before the rebuild, 'standby' is still the promoted server, as after promoteStandby alone.
      assert.equal((await notesOn(cluster, 'standby')).size, round * 10 + 10);
      await cluster.rebuildStandby();

      const [primary] = await cluster.query('primary', 'SELECT inet_server_port() AS port, pg_is_in_recovery() AS recovering');
      assert.deepEqual({ port: primary!.port, recovering: primary!.recovering }, { port: ports[(round + 1) % 2], recovering: false });
      const [standby] = await cluster.query('standby', 'SELECT inet_server_port() AS port, pg_is_in_recovery() AS recovering, pg_postmaster_start_time()::text AS started');
      assert.deepEqual({ port: standby!.port, recovering: standby!.recovering }, { port: ports[round % 2], recovering: true });
      assert.notEqual(standby!.started, dead!.started, 'the standby is a new server on the dead one\'s port');
      assert.deepEqual(await cluster.query('primary', 'SELECT application_name, sync_state FROM pg_stat_replication'), [{ application_name: 'standby1', sync_state: 'sync' }]);
      assert.equal((await replayedOnStandby(cluster)).size, round * 10 + 10);
    }
    // The client followed both failovers by itself, and every commit it got an answer for is there.
    await sql`INSERT INTO notes (id, note) VALUES (21, 'after two failovers')`;
    const notes = await notesOn(cluster, 'primary');
    assert.deepEqual([...notes.keys()], Array.from({ length: 21 }, (_, index) => index + 1));
  });
});
