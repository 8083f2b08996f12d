import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { newSecret, newVersion } from './sample-records.js';

/**
 * A version read by label or by id (GetSecretValue's reads on a read-cache miss): one statement each, the label's
 * version found by a subquery and the version's labels sorted in JS (issue 21: SQLite prepared the join and the
 * ORDER BY again at every run). The labels come back in byte order, as ORDER BY stage did.
 */
describe('sqlite store: a version read by label and by id', () => {
  let dir: string;
  let store: SqliteStore;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'coffer-version-reads-'));
    store = new SqliteStore(join(dir, 'coffer.db'));
    store.migrate();
  });
  after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  // Out of order on purpose; byte order puts upper case before lower case, and 'é' (two UTF-8 bytes) last.
  const labels = ['blue', 'AWSCURRENT', 'élan', 'Zulu', 'AWSPENDING', 'alpha'];
  const inByteOrder = ['AWSCURRENT', 'AWSPENDING', 'Zulu', 'alpha', 'blue', 'élan'];

  it('finds the version holding each label, with all its labels in byte order', async () => {
    const secret = newSecret('111111111111', 'app/version-reads');
    const first = newVersion(secret.arn);
    await store.createSecret(secret, [], first);
    const second = newVersion(secret.arn);
    await store.putSecretVersion(second, () => ({ moves: labels.map((stage) => ({ stage, versionId: second.versionId })), deleteVersions: [] }), new Date());
    for (const label of labels) {
      const version = await store.getSecretVersionByStage(secret.arn, label);
      assert.equal(version?.versionId, second.versionId, label);
      assert.deepEqual(version?.stages, inByteOrder, label);
    }
    assert.deepEqual((await store.getSecretVersion(secret.arn, second.versionId))?.stages, inByteOrder);
    assert.deepEqual((await store.getSecretVersion(secret.arn, first.versionId))?.stages, [], 'the first version lost its only label');
  });

  it('answers nothing for a label no version holds, or a label of another secret', async () => {
    const one = newSecret('111111111111', 'app/one-label');
    const other = newSecret('111111111111', 'app/other-label');
    const version = newVersion(one.arn);
    await store.createSecret(one, [], version);
    const otherVersion = newVersion(other.arn);
    await store.createSecret(other, [], otherVersion);
    await store.updateSecretLabels(other.arn, () => ({ moves: [{ stage: 'ONLY-OTHER', versionId: otherVersion.versionId }], deleteVersions: [] }), new Date());
    assert.equal(await store.getSecretVersionByStage(one.arn, 'NOBODY'), undefined);
    assert.equal(await store.getSecretVersionByStage(one.arn, 'ONLY-OTHER'), undefined);
    assert.equal((await store.getSecretVersionByStage(one.arn, 'AWSCURRENT'))?.versionId, version.versionId);
    assert.equal((await store.getSecretVersionByStage(other.arn, 'ONLY-OTHER'))?.versionId, otherVersion.versionId);
    assert.equal(await store.getSecretVersion(one.arn, 'no-such-version'), undefined);
  });
});
