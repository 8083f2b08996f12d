import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TimedReadCache } from '../../../src/store/postgres/read-cache.js';

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

  it('with maxAgeMs 0 it keeps nothing', async () => {
    const cache = new TimedReadCache({ ...limits, maxAgeMs: 0 }, () => 0);
    await cache.get('k', async () => ({}));
    assert.equal(cache.size.entries, 0);
  });
});
