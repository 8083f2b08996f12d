import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import type { SecretRecord } from '../../src/store/index.js';
import { ReadCache } from '../../src/store/sqlite/read-cache.js';
import { newSecret, newVersion } from './sample-records.js';

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

/** The cache's bound: bytes of memory, counted as V8 lays the records out, oldest out first (read-cache.ts). */
describe('read cache limits', () => {
  const value = (bytes: number) => ({ sealedValue: Buffer.alloc(bytes), name: 'n' });

  it('keeps at most maxBytes of records, dropping the oldest first, and never caches one larger than the bound', () => {
    const db = new Database(':memory:');
    const cache = new ReadCache(db, { maxBytes: 10_500 });
    let reads = 0;
    const get = (key: string, bytes: number) => cache.get(key, () => (reads++, value(bytes)));
    for (const key of ['a', 'b', 'c', 'd']) get(key, 3000);
    // Four records of ~3.4 KB do not fit in 10.5 KB: the first went when the fourth came.
    assert.equal(cache.size.entries, 3);
    assert.ok(cache.size.bytes <= 10_500 && cache.size.bytes > 9500, `bytes ${cache.size.bytes}`);
    reads = 0;
    for (const key of ['b', 'c', 'd']) get(key, 3000);
    assert.equal(reads, 0);
    get('a', 3000);
    assert.equal(reads, 1);
    // A record over the whole bound is answered but not kept, and evicts nothing.
    const big = get('huge', 20_000);
    assert.equal(big?.sealedValue.length, 20_000);
    assert.equal(cache.size.entries, 3);
    get('huge', 20_000);
    assert.equal(reads, 3);
    db.close();
  });

  it('bounds small records by their bytes too, and empties fully on invalidate', () => {
    const db = new Database(':memory:');
    const cache = new ReadCache(db, { maxBytes: 100_000 });
    for (let i = 0; i < 5000; i++) cache.get(`key-${i}`, () => value(10));
    // A 10-byte value, its object, its key and its Map slots cost several hundred bytes: far fewer than 5,000 fit.
    assert.ok(cache.size.entries > 100 && cache.size.entries < 400, `entries ${cache.size.entries}`);
    assert.ok(cache.size.bytes <= 100_000);
    cache.invalidate();
    assert.deepEqual(cache.size, { entries: 0, bytes: 0 });
    db.close();
  });

  it("counts within a fifth of what its records really take in the heap and in Buffers' native memory", async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const store = new SqliteStore(':memory:');
    store.migrate();
    const secrets: SecretRecord[] = [];
    // 2,000 secrets: their 4,000 records (~6.6 MB) fit in the store's bound (8 MiB), so every one is counted.
    for (let i = 0; i < 2000; i++) {
      const secret = { ...newSecret(ACCOUNT, `cache/bytes/${String(i).padStart(5, '0')}`), description: 'a secret of the bench corpus' };
      await store.createSecret(secret, [{ TagKey: 'team', TagValue: 'payments' }], { ...newVersion(secret.arn), sealedValue: randomBytes(1052) });
      secrets.push(secret);
    }
    const readAll = async () => {
      for (const secret of secrets) {
        const found = (await store.getSecretByName(ACCOUNT, 'us-east-1', secret.name))!;
        await store.getSecretVersionByStage(found.arn, 'AWSCURRENT');
      }
    };
    await readAll(); // statements prepared, the Map grown once
    await store.putMetaIfAbsent('cache-bytes-test', Buffer.from('x')); // a write of no secret empties the cache
    assert.equal(store.readCacheStats().entries, 0);
    const inMemory = () => {
      gc();
      gc();
      const usage = process.memoryUsage();
      return usage.heapUsed + usage.external;
    };
    const before = inMemory();
    await readAll();
    const measured = inMemory() - before;
    const { entries, bytes } = store.readCacheStats();
    assert.equal(entries, 4000);
    const ratio = bytes / measured;
    assert.ok(ratio > 0.8 && ratio < 1.25, `counted ${bytes} bytes, measured ${measured} (${ratio.toFixed(2)}x)`);
    store.close();
  });
});
