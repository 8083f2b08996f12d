import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TimedReadCache, type ReadWithAlongside } from '../../../src/store/postgres/read-cache.js';

/** The PostgreSQL backend's read cache: fresh for its own writes at once, for other nodes' within maxAgeMs. */
describe('TimedReadCache', () => {
  const limits = { maxEntries: 100, maxBytes: 1 << 20, maxAgeMs: 500 };

  it('serves a read from the cache until it is maxAgeMs old, then reads again', async () => {
    let now = 0;
    const cache = new TimedReadCache(limits, () => now);
    let reads = 0;
    const read = async () => ({ value: ++reads });
    assert.deepEqual(await cache.get('k', read), { value: 1 });
    now = 499;
    assert.deepEqual(await cache.get('k', read), { value: 1 });
    now = 500;
    assert.deepEqual(await cache.get('k', read), { value: 2 });
  });

  it('a write of this node empties it, and a read that overlapped the write is returned but not kept', async () => {
    const cache = new TimedReadCache(limits, () => 0);
    let stored = 'old';
    assert.deepEqual(await cache.get('k', async () => ({ stored })), { stored: 'old' });
    stored = 'new';
    cache.invalidate();
    assert.deepEqual(await cache.get('k', async () => ({ stored })), { stored: 'new' });
    // A read that began before a write ended (it may have seen the row before the commit).
    let release!: () => void;
    const slowRead = cache.get('slow', () => new Promise<{ stored: string }>((resolve) => (release = () => resolve({ stored: 'before' }))));
    cache.invalidate();
    release();
    assert.deepEqual(await slowRead, { stored: 'before' });
    assert.deepEqual(await cache.get('slow', async () => ({ stored: 'after' })), { stored: 'after' });
  });

  it('keeps nothing absent, freezes what it keeps, and bounds entries and bytes', async () => {
    const cache = new TimedReadCache({ maxEntries: 2, maxBytes: 10_000, maxAgeMs: 500 }, () => 0);
    assert.equal(await cache.get('absent', async () => undefined), undefined);
    assert.equal(cache.size.entries, 0);
    const record = await cache.get('a', async () => ({ name: 'a' }));
    assert.ok(Object.isFrozen(record));
    await cache.get('b', async () => ({ name: 'b' }));
    await cache.get('c', async () => ({ name: 'c' }));
    assert.equal(cache.size.entries, 2);
    const big = await cache.get('big', async () => ({ blob: Buffer.alloc(20_000) }));
    assert.equal(big?.blob.length, 20_000);
    assert.equal(cache.size.entries, 2, 'a record larger than the byte bound is served, not kept');
  });

  it('keeps only what its caller accepts: the rest is read again each time', async () => {
    const cache = new TimedReadCache(limits, () => 0);
    let reads = 0;
    const read = async () => ({ filled: ++reads > 1 });
    const filled = (value: { filled: boolean }) => value.filled;
    assert.deepEqual(await cache.get('k', read, filled), { filled: false });
    assert.equal(cache.size.entries, 0);
    assert.deepEqual(await cache.get('k', read, filled), { filled: true });
    assert.deepEqual(await cache.get('k', read, filled), { filled: true });
    assert.equal(reads, 2);
  });

  it('with maxAgeMs 0 it keeps nothing', async () => {
    const cache = new TimedReadCache({ ...limits, maxAgeMs: 0 }, () => 0);
    await cache.get('k', async () => ({}));
    assert.equal(cache.size.entries, 0);
  });

  it('past maxAgeMs, an entry is served while every write up to less than maxAgeMs ago has been heard, until maxLifetimeMs', async () => {
    let now = 0;
    const cache = new TimedReadCache({ ...limits, maxLifetimeMs: 10_000 }, () => now);
    let reads = 0;
    const read = async () => ({ value: ++reads });
    assert.deepEqual(await cache.get('k', read), { value: 1 });
    // Nothing heard yet: expiry by age, as without notifications.
    now = 600;
    assert.deepEqual(await cache.get('k', read), { value: 2 });
    // Heard every write before 700: fresh up to 1,200, though read at 600.
    cache.heardAllWritesBefore(700);
    now = 1_199;
    assert.deepEqual(await cache.get('k', read), { value: 2 });
    now = 1_200;
    assert.deepEqual(await cache.get('k', read), { value: 3 });
    // An older point in time heard late changes nothing.
    cache.heardAllWritesBefore(100);
    now = 1_750;
    assert.deepEqual(await cache.get('k', read), { value: 4 });
    // Kept in step, an entry still lives no longer than maxLifetimeMs.
    for (now = 2_000; now < 11_750; now += 250) {
      cache.heardAllWritesBefore(now);
      assert.deepEqual(await cache.get('k', read), { value: 4 }, `at ${now}`);
    }
    cache.heardAllWritesBefore(11_750);
    now = 11_750;
    assert.deepEqual(await cache.get('k', read), { value: 5 });
  });

  it('an entry read alongside another (one statement) is kept with the same read time, and not when the read overlapped a write', async () => {
    let now = 0;
    const cache = new TimedReadCache(limits, () => now);
    assert.deepEqual(await cache.getWith('a', async () => ({ value: { a: 1 }, alongside: [['b', { b: 1 }]] })), { a: 1 });
    assert.deepEqual(await cache.get('b', async () => ({ b: 2 })), { b: 1 });
    now = 500;
    assert.deepEqual(await cache.get('b', async () => ({ b: 3 })), { b: 3 });
    let release!: () => void;
    const slow = cache.getWith('c', () => new Promise<ReadWithAlongside<object>>((resolve) => (release = () => resolve({ value: { c: 1 }, alongside: [['d', { d: 1 }]] }))));
    cache.invalidate();
    release();
    await slow;
    assert.deepEqual(await cache.get('d', async () => ({ d: 2 })), { d: 2 });
  });
});
