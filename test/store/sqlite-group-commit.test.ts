import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { AWSCURRENT, AWSPREVIOUS, planNewVersion } from '../../src/secrets/staging-labels.js';
import type { LabelPlanner, SecretRecord } from '../../src/store/index.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { GroupCommit } from '../../src/store/sqlite/group-commit.js';
import { newSecret, newVersion } from './sample-records.js';

const ACCOUNT = '111111111111';

/**
 * PutSecretValue's store writes queued in one turn of the event loop commit together (store/sqlite/group-commit.ts):
 * one transaction, one WAL append; a put that throws has the group rolled back and fails alone, the others run again.
 */
describe('sqlite store group commit of secret versions', () => {
  let dir: string;
  let path: string;
  let store: SqliteStore;
  /** A second connection to the file, to see the WAL as another process would. */
  let observer: Database.Database;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'coffer-group-commit-'));
    path = join(dir, 'coffer.db');
    store = new SqliteStore(path);
    store.migrate();
    observer = new Database(path);
  });
  after(() => {
    observer.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The real label rules: the new version takes AWSCURRENT, the former holder AWSPREVIOUS. */
  const becomesCurrent = (versionId: string): LabelPlanner => (labels) => planNewVersion(labels, versionId, [AWSCURRENT], new Date());

  async function secretWithValue(name: string): Promise<SecretRecord> {
    const secret = newSecret(ACCOUNT, name);
    const first = newVersion(secret.arn);
    await store.createSecret(secret, [], first);
    await store.putSecretVersion(first, becomesCurrent(first.versionId), new Date());
    return secret;
  }

  /** The WAL's frames written since the last call (each call checkpoints and empties the WAL). */
  function walFramesSinceLastCall(): number {
    const [row] = observer.pragma('wal_checkpoint(PASSIVE)') as Array<{ busy: number; log: number; checkpointed: number }>;
    const [truncated] = observer.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>;
    assert.equal(truncated!.busy, 0);
    return row!.log;
  }

  function assertLabelInvariant(stages: string[][]) {
    assert.equal(stages.filter((labels) => labels.includes(AWSCURRENT)).length, 1, 'exactly one AWSCURRENT');
    assert.ok(stages.filter((labels) => labels.includes(AWSPREVIOUS)).length <= 1, 'at most one AWSPREVIOUS');
  }

  it('ten puts made in one turn are written to the WAL once, not ten times', async () => {
    const secret = await secretWithValue('group/one-append');
    walFramesSinceLastCall();
    const alone = newVersion(secret.arn);
    await store.putSecretVersion(alone, becomesCurrent(alone.versionId), new Date());
    const framesOfOnePut = walFramesSinceLastCall();

    const versions = Array.from({ length: 10 }, () => newVersion(secret.arn));
    const outcomes = await Promise.all(versions.map((version) => store.putSecretVersion(version, becomesCurrent(version.versionId), new Date())));
    const framesOfTen = walFramesSinceLastCall();

    assert.ok(outcomes.every((outcome) => outcome.inserted));
    // Committed one by one, each put appends its pages again (framesOfTen ≈ 10 × framesOfOnePut).
    assert.ok(framesOfTen < 2 * framesOfOnePut, `ten puts wrote ${framesOfTen} WAL frames, one put alone ${framesOfOnePut}`);
    const current = await store.getSecretVersionByStage(secret.arn, AWSCURRENT);
    assert.equal(current?.versionId, versions.at(-1)!.versionId, 'applied in the order they were made');
    assertLabelInvariant((await store.listSecretVersions(secret.arn)).map((version) => version.stages));
  });

  it('a put that fails in a group fails alone: the others commit, it leaves nothing', async () => {
    const secret = await secretWithValue('group/one-fails');
    const before = await store.listSecretVersions(secret.arn);
    const versions = Array.from({ length: 5 }, () => newVersion(secret.arn));
    const refusal = new Error('the planner refuses this one');
    const failing = versions[2]!;
    const settled = await Promise.allSettled(
      versions.map((version) =>
        store.putSecretVersion(
          version,
          version === failing
            ? (labels) => {
                // Its version is written before the refusal: rolled back with the group, which runs again without it.
                planNewVersion(labels, version.versionId, [AWSCURRENT], new Date());
                throw refusal;
              }
            : becomesCurrent(version.versionId),
          new Date(),
        ),
      ),
    );
    assert.deepEqual(
      settled.map((outcome) => outcome.status),
      ['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled'],
    );
    assert.equal((settled[2] as PromiseRejectedResult).reason, refusal);

    // Seen from another connection: committed, on disk, not only in this connection's view.
    const ids = (observer.prepare('SELECT version_id FROM secret_versions WHERE secret_arn = ?').pluck().all(secret.arn) as string[]).sort();
    const expected = [...before.map((version) => version.versionId), ...versions.filter((version) => version !== failing).map((version) => version.versionId)].sort();
    assert.deepEqual(ids, expected);
    const stages = observer.prepare('SELECT version_id, stage FROM secret_version_stages WHERE secret_arn = ?').all(secret.arn) as Array<{ version_id: string; stage: string }>;
    assert.deepEqual(
      stages.filter((row) => row.stage === AWSCURRENT).map((row) => row.version_id),
      [versions[4]!.versionId],
    );
    assert.deepEqual(
      stages.filter((row) => row.stage === AWSPREVIOUS).map((row) => row.version_id),
      [versions[3]!.versionId],
    );
    assert.ok(!stages.some((row) => row.version_id === failing.versionId));
  });

  it('the same version id twice in one group: the second is a replay of the first, not a second row', async () => {
    const secret = await secretWithValue('group/replay');
    const version = newVersion(secret.arn);
    const [first, second] = await Promise.all([
      store.putSecretVersion(version, becomesCurrent(version.versionId), new Date()),
      store.putSecretVersion({ ...version, sealedValue: Buffer.from('another value') }, becomesCurrent(version.versionId), new Date()),
    ]);
    assert.deepEqual(first, { inserted: true });
    assert.equal(second.inserted, false);
    assert.equal(second.inserted === false && second.existing.versionId, version.versionId);
    assert.deepEqual(second.inserted === false && second.existing.sealedValue, version.sealedValue);
    assert.equal((await store.listSecretVersions(secret.arn)).length, 2);
  });

  it('a put queued when the store closes is committed before it closes', async () => {
    const own = new SqliteStore(path);
    const secret = newSecret(ACCOUNT, 'group/close');
    await own.createSecret(secret, [], newVersion(secret.arn));
    const version = newVersion(secret.arn);
    const put = own.putSecretVersion(version, becomesCurrent(version.versionId), new Date());
    own.close();
    assert.deepEqual(await put, { inserted: true });
    assert.equal(observer.prepare('SELECT count(*) FROM secret_versions WHERE version_id = ?').pluck().get(version.versionId), 1);
  });
});

/** The group's own bookkeeping, on a real SQLite file, for what the store's tables cannot be made to do on demand. */
describe('GroupCommit', () => {
  let dir: string;
  let db: Database.Database;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'coffer-group-commit-unit-'));
    db = new Database(join(dir, 'group.db'));
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE rows (name TEXT PRIMARY KEY)');
  });
  after(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const insert = (name: string) => () => db.transaction(() => db.prepare('INSERT INTO rows (name) VALUES (?)').run(name).changes)();
  /** A write as the store's put makes it: bare in the group's transaction. */
  const insertBare = (name: string) => () => db.prepare('INSERT INTO rows (name) VALUES (?)').run(name).changes;
  const names = () => (db.prepare('SELECT name FROM rows ORDER BY name').pluck().all() as string[]);

  it('when SQLite rolls back the whole transaction under one write, that write fails and the others still commit', async () => {
    const group = new GroupCommit(db);
    const lost = new Error('disk full: SQLite rolled the transaction back');
    const settled = await Promise.allSettled([
      group.run(insert('a')),
      group.run(() =>
        db.transaction(() => {
          db.prepare('INSERT INTO rows (name) VALUES (?)').run('b');
          // What SQLite does itself on SQLITE_FULL or an I/O error: the whole transaction is gone.
          db.exec('ROLLBACK');
          throw lost;
        })(),
      ),
      group.run(insert('c')),
    ]);
    assert.deepEqual(settled, [
      { status: 'fulfilled', value: 1 },
      { status: 'rejected', reason: lost },
      { status: 'fulfilled', value: 1 },
    ]);
    assert.deepEqual(names(), ['a', 'c']);
    assert.equal(db.inTransaction, false);
  });

  it('a constraint failure in one write: it fails, the group is rolled back and the others run again and commit', async () => {
    const group = new GroupCommit(db);
    const runs: string[] = [];
    const counted = (name: string) => () => (runs.push(name), insertBare(name)());
    const settled = await Promise.allSettled([group.run(counted('d')), group.run(counted('a')), group.run(counted('e'))]);
    assert.deepEqual(settled.map((outcome) => outcome.status), ['fulfilled', 'rejected', 'fulfilled']);
    assert.match(String((settled[1] as PromiseRejectedResult).reason), /UNIQUE constraint failed/);
    // d ran before the failure and again in the new group; e only there. Each row once.
    assert.deepEqual(runs, ['d', 'a', 'd', 'e']);
    assert.deepEqual(names(), ['a', 'c', 'd', 'e']);
    assert.equal(db.inTransaction, false);
  });

  it('a write that leaves rows behind and then throws: none of them commit', async () => {
    const group = new GroupCommit(db);
    const refusal = new Error('refused after writing');
    const settled = await Promise.allSettled([
      group.run(() => {
        db.prepare('INSERT INTO rows (name) VALUES (?)').run('f');
        throw refusal;
      }),
      group.run(insertBare('g')),
    ]);
    assert.deepEqual(settled, [{ status: 'rejected', reason: refusal }, { status: 'fulfilled', value: 1 }]);
    assert.deepEqual(names(), ['a', 'c', 'd', 'e', 'g']);
  });
});
