import assert from 'node:assert/strict';
import { beforeEach, it } from 'node:test';
import type { MetaRepository, StoreLifecycle } from '../../../src/store/index.js';
import { describeRepository, type OpenRepositories } from '../repository-suite.js';

/** The conformance suite of MetaRepository, which every backend passes: migrations and deployment-wide values. */
export function runMetaRepositorySuite(backend: string, open: OpenRepositories<MetaRepository>): void {
  describeRepository<MetaRepository>('MetaRepository', backend, open, (opened) => {
    let store: MetaRepository & StoreLifecycle;
    beforeEach(() => {
      store = opened();
    });

    it('migrate can run again without effect', async () => {
      await store.migrate();
      assert.equal(await store.getMeta('absent'), undefined);
    });

    it('putMetaIfAbsent keeps the first value', async () => {
      assert.deepEqual(await store.putMetaIfAbsent('m', Buffer.from('first')), Buffer.from('first'));
      assert.deepEqual(await store.putMetaIfAbsent('m', Buffer.from('second')), Buffer.from('first'));
      assert.deepEqual(await store.getMeta('m'), Buffer.from('first'));
    });

    it('replaceMeta changes or deletes a value only if it is still the expected one', async () => {
      await store.putMetaIfAbsent('cas', Buffer.from('one'));
      assert.equal(await store.replaceMeta('cas', Buffer.from('other'), Buffer.from('two')), false);
      assert.deepEqual(await store.getMeta('cas'), Buffer.from('one'));
      assert.equal(await store.replaceMeta('cas', Buffer.from('one'), Buffer.from('two')), true);
      assert.deepEqual(await store.getMeta('cas'), Buffer.from('two'));
      assert.equal(await store.replaceMeta('cas', Buffer.from('one'), undefined), false);
      assert.equal(await store.replaceMeta('cas', Buffer.from('two'), undefined), true);
      assert.equal(await store.getMeta('cas'), undefined);
      assert.equal(await store.replaceMeta('cas', Buffer.from('two'), Buffer.from('three')), false, 'an absent value is not replaced');
    });
  });
}
