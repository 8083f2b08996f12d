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
  });
}
