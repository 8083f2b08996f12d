import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { makeRootKeyCheck, RootKeyError } from '../../../src/crypto/index.js';
import { makeRekeyRecord, parseRekeyRecord, rekeyPair, ROOT_KEY_CHECK, ROOT_KEY_REKEY, settleRootKeys } from '../../../src/server/rekey-record.js';
import { SqliteStore } from '../../../src/store/sqlite/index.js';

describe('settling the root keys of a start (rekey-record.ts)', () => {
  let store: SqliteStore;
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);
  before(async () => {
    store = new SqliteStore(':memory:');
    await store.migrate();
  });
  after(() => store.close());

  it('a new deployment takes the key it was given; a deployment with a check value only its own key', async () => {
    assert.deepEqual((await settleRootKeys(store, oldKey, 'here')).current, oldKey);
    await store.putMetaIfAbsent(ROOT_KEY_CHECK, makeRootKeyCheck(oldKey));
    assert.deepEqual(await settleRootKeys(store, oldKey, 'here'), { current: oldKey });
    await assert.rejects(settleRootKeys(store, newKey, 'here'), (error: Error) => error instanceof RootKeyError && /does not match the data in here/.test(error.message));
  });

  it('during a rekey, either key yields both, whichever side of the check value swap the crash came', async () => {
    const row = makeRekeyRecord(oldKey, newKey, { kind: 'same' }, new Date(0));
    assert.ok(!row.includes(newKey) && !row.includes(oldKey), 'neither key is in the row in clear');
    await store.putMetaIfAbsent(ROOT_KEY_REKEY, row);
    for (const loaded of [oldKey, newKey]) assert.deepEqual(await settleRootKeys(store, loaded, 'here'), { current: newKey, previous: oldKey });
    await store.replaceMeta(ROOT_KEY_CHECK, (await store.getMeta(ROOT_KEY_CHECK))!, makeRootKeyCheck(newKey));
    for (const loaded of [oldKey, newKey]) assert.deepEqual(await settleRootKeys(store, loaded, 'here'), { current: newKey, previous: oldKey });
    await assert.rejects(settleRootKeys(store, randomBytes(32), 'here'), /neither the old nor the new key/);
    assert.equal(rekeyPair(parseRekeyRecord(row), randomBytes(32)), undefined);
  });

  it('once the row is gone, the old key is refused with a message naming the rekey', async () => {
    await store.replaceMeta(ROOT_KEY_REKEY, (await store.getMeta(ROOT_KEY_REKEY))!, undefined);
    assert.deepEqual(await settleRootKeys(store, newKey, 'here'), { current: newKey });
    await assert.rejects(settleRootKeys(store, oldKey, 'here'), /coffer rekey.*holds the old one/);
  });
});
