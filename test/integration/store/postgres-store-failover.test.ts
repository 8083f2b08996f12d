import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { PostgresStore } from '../../../src/store/postgres/index.js';
import { createFailoverCluster, type FailoverCluster } from '../../helpers/postgres-failover-cluster.js';

/**
 * PostgresStore on the multi-host URL of a primary and its synchronous hot standby
 * (target_session_attrs=read-write): while no server takes writes every call fails at once with the retryable
 * ServiceUnavailable, and once a primary is back every call succeeds again. The pool must never keep a
 * connection to the standby: opened while the primary was away, it would refuse every transaction (SERIALIZABLE
 * is refused in recovery) long after the primary returned. And no write is acknowledged that the standby has
 * not got.
 */

const STATEMENT_TIMEOUT_MS = 3_000;
const CONCURRENT_CALLS = 24;
const POOL_SIZE = 4;
/**
 * Calls keep coming for this long while the primary is down. The driver's own wait between attempts to
 * reconnect grows to 10-20 s by then (failing every call at once until the next attempt); the store's stays
 * at most 1 s.
 */
const LONG_OUTAGE_MS = 11_000;
/** Above the store's longest wait between reconnection attempts (1 s), below what the driver's would leave. */
const RECOVERY_LIMIT_MS = 2_500;

describe('PostgresStore on a primary and its hot standby', () => {
  const clusters: FailoverCluster[] = [];
  const stores: PostgresStore[] = [];
  let cluster: FailoverCluster;
  let store: PostgresStore;
  let written = 0;

  beforeEach(async () => {
    cluster = await createFailoverCluster();
    clusters.push(cluster);
    await cluster.createDatabase('coffer');
    store = new PostgresStore({ connectionString: cluster.connectionString('coffer'), poolSize: POOL_SIZE, statementTimeoutMs: STATEMENT_TIMEOUT_MS, readCacheMaxAgeMs: 0 });
    stores.push(store);
    await store.migrate();
  });
  after(async () => {
    for (const opened of stores) await opened.close();
    for (const created of clusters) await created.destroy();
  });

  /**
   * Writes again until they succeed: the pool waits a moment between attempts to reconnect (failing calls at
   * once meanwhile), and must be back within RECOVERY_LIMIT_MS of the database.
   */
  async function writeOnceBack(): Promise<void> {
    const deadline = Date.now() + RECOVERY_LIMIT_MS;
    for (;;) {
      try {
        return void (await writeMany());
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`still failing ${RECOVERY_LIMIT_MS} ms after the database was back: ${String(error)}`);
        await sleep(50);
      }
    }
  }

  /** Calls every 50 ms for `durationMs`, each failing with ServiceUnavailable, as clients keep calling a node. */
  async function keepCallingWhileDown(durationMs: number): Promise<void> {
    const until = Date.now() + durationMs;
    while (Date.now() < until) {
      await failWhileNoPrimary();
      await sleep(50);
    }
  }

  /** Enough calls at once that every connection of the pool serves some. */
  const writeMany = () => Promise.all(Array.from({ length: CONCURRENT_CALLS }, () => store.putMetaIfAbsent(`meta-${written++}`, Buffer.from('x'))));

  /** While no server takes writes, calls fail fast with the retryable 503 (and the pool tries to reconnect). */
  async function failWhileNoPrimary(): Promise<void> {
    const outcomes = await Promise.allSettled(Array.from({ length: CONCURRENT_CALLS }, () => store.getMeta('anything')));
    for (const outcome of outcomes) {
      assert.equal(outcome.status, 'rejected');
      assert.equal((outcome as PromiseRejectedResult).reason.code, 'ServiceUnavailable', String((outcome as PromiseRejectedResult).reason));
    }
  }

  it('the primary restarts: every call fails with ServiceUnavailable while it is down, and every call succeeds once it is back', async () => {
    await writeMany();
    await cluster.stopPrimaryHard();
    await keepCallingWhileDown(LONG_OUTAGE_MS);
    await cluster.startPrimary();
    await writeOnceBack();
    await writeMany();
    assert.equal((await store.getMeta(`meta-${written - 1}`))?.toString(), 'x');
  });

  it('the standby is down: a write is not acknowledged (its COMMIT waits for the standby) but fails with ServiceUnavailable, and a retry settles it once the standby is back', async () => {
    await cluster.stopStandby();
    const startedAt = Date.now();
    await assert.rejects(store.putMetaIfAbsent('while-standby-down', Buffer.from('first')), { code: 'ServiceUnavailable' });
    assert.ok(Date.now() - startedAt < STATEMENT_TIMEOUT_MS + 1_000, `refused after ${Date.now() - startedAt} ms`);
    await cluster.startStandby();
    // The first attempt may have committed on the primary alone: the retry finds it or writes it.
    assert.equal((await store.putMetaIfAbsent('while-standby-down', Buffer.from('first'))).toString(), 'first');
    assert.equal((await store.getMeta('while-standby-down'))?.toString(), 'first');
  });

  it('the standby is promoted: every call fails with ServiceUnavailable until then, and succeeds on it after', async () => {
    await writeMany();
    await cluster.stopPrimaryHard();
    await failWhileNoPrimary();
    await cluster.promoteStandby();
    await writeOnceBack();
    await writeMany();
    const [server] = await cluster.query('standby', 'SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1', ['coffer']);
    assert.ok(server!.n > 0, 'the store is connected to the promoted standby');
  });
});
