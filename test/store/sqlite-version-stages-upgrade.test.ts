import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { AWSCURRENT, AWSPREVIOUS, planNewVersion, planNewVersionFromHolders } from '../../src/secrets/staging-labels.js';
import type { LabelPlanner, SecretVersionRecord } from '../../src/store/index.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { applyMigrations } from '../../src/store/sqlite/migration-runner.js';
import { sqliteMigrations } from '../../src/store/sqlite/migrations.js';
import { newSecret, newVersion } from './sample-records.js';

const KEYED_STAGES = 20;

function putPlanner(versionId: string, stages: string[]): LabelPlanner {
  return Object.assign((labels: Parameters<LabelPlanner>[0]) => planNewVersion(labels, versionId, stages, new Date()), {
    fromHolders: (holders: Parameters<NonNullable<LabelPlanner['fromHolders']>>[0]) => planNewVersionFromHolders(holders, versionId, stages),
  });
}

const byVersion = (versions: SecretVersionRecord[]) => Object.fromEntries(versions.map((version) => [version.versionId, version.stages]));

/**
 * Migration 20 rebuilds secret_version_stages WITHOUT ROWID and drops its by-version index (issue 21): labels
 * written under the old table read the same after it, and puts, reads by label and cascades work on the new one.
 */
describe('sqlite store: migration 20 (version labels keyed WITHOUT ROWID)', () => {
  let dir: string;
  let path: string;
  const secret = newSecret('111111111111', 'app/upgraded');
  const versions = [newVersion(secret.arn), newVersion(secret.arn), newVersion(secret.arn)];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'coffer-stages-upgrade-'));
    path = join(dir, 'coffer.db');
    // A database as the release before migration 20 left it, with a secret of three versions written there.
    const old = new Database(path);
    old.pragma('journal_mode = WAL');
    applyMigrations(old, sqliteMigrations.filter((migration) => migration.id < KEYED_STAGES), 'schema_migrations');
    old.close();
    const before = new SqliteStore(path);
    await before.createSecret(secret, [], versions[0]);
    for (const version of versions.slice(1)) await before.putSecretVersion(version, putPlanner(version.versionId, [AWSCURRENT]), new Date());
    await before.updateSecretLabels(secret.arn, () => ({ moves: [{ stage: 'custom', versionId: versions[0]!.versionId }], deleteVersions: [] }), new Date());
    before.close();
    const raw = new Database(path, { readonly: true });
    assert.match(tableSql(raw), /^CREATE TABLE secret_version_stages \(/);
    assert.doesNotMatch(tableSql(raw), /WITHOUT ROWID/);
    raw.close();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function tableSql(db: Database.Database): string {
    return db.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'secret_version_stages'").pluck().get() as string;
  }

  it('keeps every label, drops the by-version index, and the table is WITHOUT ROWID', async () => {
    const store = new SqliteStore(path);
    store.migrate();
    try {
      assert.deepEqual(byVersion(await store.listSecretVersions(secret.arn)), {
        [versions[0]!.versionId]: ['custom'],
        [versions[1]!.versionId]: [AWSPREVIOUS],
        [versions[2]!.versionId]: [AWSCURRENT],
      });
      assert.equal((await store.getSecretVersionByStage(secret.arn, AWSPREVIOUS))?.versionId, versions[1]!.versionId);
    } finally {
      store.close();
    }
    const raw = new Database(path, { readonly: true });
    try {
      assert.match(tableSql(raw), /WITHOUT ROWID/);
      assert.equal(raw.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'secret_version_stages_by_version'").pluck().get(), 0);
      assert.equal(raw.prepare('SELECT count(*) FROM secret_version_stages').pluck().get(), 3);
      assert.deepEqual(raw.pragma('foreign_key_check'), []);
    } finally {
      raw.close();
    }
  });

  it('lists a version\'s labels in byte order, as ORDER BY did before the sort moved out of the statement', async () => {
    const store = new SqliteStore(path);
    store.migrate();
    try {
      const labeled = newSecret('111111111111', 'app/label-order');
      const first = newVersion(labeled.arn);
      await store.createSecret(labeled, [], first);
      const labels = ['zeta', 'éclair', 'Alpha', 'b-2', 'b-10'];
      await store.updateSecretLabels(labeled.arn, () => ({ moves: labels.map((stage) => ({ stage, versionId: first.versionId })), deleteVersions: [] }), new Date());
      const expected = [AWSCURRENT, 'Alpha', 'b-10', 'b-2', 'zeta', 'éclair'];
      assert.deepEqual((await store.listSecretVersions(labeled.arn))[0]!.stages, expected);
      assert.deepEqual((await store.getSecretVersion(labeled.arn, first.versionId))!.stages, expected);
    } finally {
      store.close();
    }
  });

  it('moves labels on a put, cascades a deleted version and a destroyed secret', async () => {
    const store = new SqliteStore(path);
    store.migrate();
    try {
      const next = newVersion(secret.arn);
      assert.deepEqual(await store.putSecretVersion(next, putPlanner(next.versionId, [AWSCURRENT]), new Date()), { inserted: true });
      assert.deepEqual(byVersion(await store.listSecretVersions(secret.arn)), {
        [versions[0]!.versionId]: ['custom'],
        [versions[1]!.versionId]: [],
        [versions[2]!.versionId]: [AWSPREVIOUS],
        [next.versionId]: [AWSCURRENT],
      });
      const version = await store.getSecretVersion(secret.arn, next.versionId);
      assert.deepEqual(version?.stages, [AWSCURRENT]);
    } finally {
      store.close();
    }
    const raw = new Database(path);
    try {
      raw.pragma('foreign_keys = ON');
      // The labels of a deleted version go with it (the cascade finds them through the key's secret_arn prefix).
      raw.prepare('DELETE FROM secret_versions WHERE secret_arn = ? AND version_id = ?').run(secret.arn, versions[0]!.versionId);
      assert.deepEqual(raw.prepare('SELECT stage FROM secret_version_stages WHERE secret_arn = ? ORDER BY stage').pluck().all(secret.arn), [AWSCURRENT, AWSPREVIOUS]);
    } finally {
      raw.close();
    }
    const reopened = new SqliteStore(path);
    reopened.migrate();
    try {
      assert.equal(await reopened.destroySecret(secret.arn), true);
      assert.equal(await reopened.getSecretVersionByStage(secret.arn, AWSCURRENT), undefined);
    } finally {
      reopened.close();
    }
    const check = new Database(path, { readonly: true });
    try {
      assert.equal(check.prepare('SELECT count(*) FROM secret_version_stages WHERE secret_arn = ?').pluck().get(secret.arn), 0);
    } finally {
      check.close();
    }
  });
});
