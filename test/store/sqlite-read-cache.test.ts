import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SqliteStore } from '../../src/store/index.js';
import { newSecret, newVersion } from './store-suite.js';

const ACCOUNT = '111111111111';
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

/** The SQLite store keeps its hot point reads between calls (read-cache.ts); a cached read is never stale. */
describe('sqlite store read cache', () => {
  let dir: string;
  let store: SqliteStore;
  let other: SqliteStore;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'coffer-cache-'));
    store = new SqliteStore(join(dir, 'coffer.db'));
    store.migrate();
    // A second connection to the same file: what another process of a cluster is.
    other = new SqliteStore(join(dir, 'coffer.db'));
  });
  after(() => {
    other.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a write of the store itself is seen by its very next read, in the same turn', async () => {
    const secret = newSecret(ACCOUNT, 'cache/own-write');
    await store.createSecret(secret, [], newVersion(secret.arn));
    assert.equal((await store.getSecretByName(ACCOUNT, 'us-east-1', secret.name))?.resourcePolicy, undefined);
    await store.setSecretResourcePolicy(secret.arn, '{"Version":"2012-10-17","Statement":[]}');
    assert.equal((await store.getSecretByName(ACCOUNT, 'us-east-1', secret.name))?.resourcePolicy, '{"Version":"2012-10-17","Statement":[]}');
    const second = newVersion(secret.arn);
    await store.putSecretVersion(second, () => ({ moves: [{ stage: 'AWSCURRENT', versionId: second.versionId }], deleteVersions: [] }), new Date());
    assert.equal((await store.getSecretVersionByStage(secret.arn, 'AWSCURRENT'))?.versionId, second.versionId);
  });

  it("another connection's write is seen from the next turn of the event loop", async () => {
    const secret = newSecret(ACCOUNT, 'cache/other-write');
    await store.createSecret(secret, [], newVersion(secret.arn));
    assert.equal((await store.getSecretByArn(secret.arn))?.deletedDate, undefined);
    await nextTurn();
    await other.markSecretDeleted(secret.arn, new Date(1_800_000_000_000), new Date(1_800_600_000_000));
    await nextTurn();
    assert.equal((await store.getSecretByArn(secret.arn))?.deletedDate?.getTime(), 1_800_000_000_000);
    await other.destroySecret(secret.arn);
    await nextTurn();
    assert.equal(await store.getSecretByArn(secret.arn), undefined);
  });

  it('nothing read inside a transaction that rolls back stays cached', async () => {
    const secret = newSecret(ACCOUNT, 'cache/rollback');
    await store.createSecret(secret, [], newVersion(secret.arn));
    const refused = newVersion(secret.arn);
    let seenInside: unknown;
    const planner = () => {
      // Inside putSecretVersion's transaction the new row is visible; it must not outlive the rollback.
      seenInside = store.getSecretVersion(secret.arn, refused.versionId);
      throw new Error('refused');
    };
    await assert.rejects(store.putSecretVersion(refused, planner, new Date()), /refused/);
    assert.equal((await (seenInside as Promise<{ versionId: string } | undefined>))?.versionId, refused.versionId);
    assert.equal(await store.getSecretVersion(secret.arn, refused.versionId), undefined);
  });

  it('shares records frozen, so no caller can change what the next one reads', async () => {
    const secret = newSecret(ACCOUNT, 'cache/frozen');
    await store.createSecret(secret, [], newVersion(secret.arn));
    const read = (await store.getSecretByName(ACCOUNT, 'us-east-1', secret.name))!;
    const again = (await store.getSecretByName(ACCOUNT, 'us-east-1', secret.name))!;
    assert.equal(read, again);
    assert.ok(Object.isFrozen(read));
    assert.throws(() => {
      (read as { name: string }).name = 'changed';
    }, TypeError);
    const version = (await store.getSecretVersionByStage(secret.arn, 'AWSCURRENT'))!;
    assert.throws(() => (version.stages as string[]).push('MINE'), TypeError);
  });
});
