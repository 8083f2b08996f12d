import assert from 'node:assert/strict';
import { beforeEach, it } from 'node:test';
import type { FunctionsRepository } from '../../../src/store/index.js';
import { describeRepository, type OpenRepositories } from '../repository-suite.js';

/** The conformance suite of FunctionsRepository, which every backend passes: names unique per account and region. */
export function runFunctionsRepositorySuite(backend: string, open: OpenRepositories<FunctionsRepository>): void {
  describeRepository<FunctionsRepository>('FunctionsRepository', backend, open, (opened) => {
    let store: FunctionsRepository;
    beforeEach(() => {
      store = opened();
    });

    it('functions are unique by name per account and region', async () => {
      const now = new Date(1_700_000_000_000);
      const record = {
        arn: 'arn:aws:lambda:us-east-1:999999999999:function:rotate', accountId: '999999999999', region: 'us-east-1', name: 'rotate',
        kind: 'http' as const, url: 'http://127.0.0.1:1/', codeSize: 0, environment: { A: '1' }, timeoutSeconds: 3, description: '',
        createdAt: now, lastModified: now, revisionId: 'r1',
      };
      assert.equal(await store.createFunction(record), true);
      assert.equal(await store.createFunction(record), false);
      assert.equal((await store.updateFunction('999999999999', 'us-east-1', 'rotate', { timeoutSeconds: 9, environment: { B: '2' } }))?.timeoutSeconds, 9);
      assert.deepEqual((await store.getFunction('999999999999', 'us-east-1', 'rotate'))?.environment, { B: '2' });
      // UpdateFunctionConfiguration may change the execution role.
      const newRole = 'arn:aws:iam::999999999999:role/another-role';
      assert.equal((await store.updateFunction('999999999999', 'us-east-1', 'rotate', { role: newRole }))?.role, newRole);
      assert.equal((await store.getFunction('999999999999', 'us-east-1', 'rotate'))?.role, newRole);
      assert.deepEqual((await store.listFunctions('999999999999', 'us-east-1')).map((f) => f.name), ['rotate']);
      assert.equal(await store.deleteFunction('999999999999', 'us-east-1', 'rotate'), true);
      assert.equal(await store.getFunction('999999999999', 'us-east-1', 'rotate'), undefined);
    });
  });
}
