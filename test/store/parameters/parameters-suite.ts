import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { ParametersRepository, ParameterWrite, ParameterWriteLimits } from '../../../src/store/index.js';
import { describeRepository, type OpenRepositories } from '../repository-suite.js';

const ACCOUNT = '111111111111';
const REGION = 'us-east-1';
const LIMITS: ParameterWriteLimits = { overwrite: false, maxVersions: 100, maxStandardParameters: 10_000 };

function write(name: string, value: string, extra: Partial<ParameterWrite> = {}): ParameterWrite {
  return {
    accountId: ACCOUNT,
    region: REGION,
    name,
    type: 'String',
    value,
    dataType: 'text',
    tier: 'Standard',
    tags: [],
    lastModifiedDate: new Date(1_700_000_000_000),
    lastModifiedUser: `arn:aws:iam::${ACCOUNT}:root`,
    ...extra,
  };
}

/**
 * The conformance suite of ParametersRepository: versions numbered by the store, overwrite, the version and
 * parameter limits, labels moving between versions, path listing with paging, tags, sealed values, expiry.
 */
export function runParametersRepositorySuite(backend: string, open: OpenRepositories<ParametersRepository>): void {
  describeRepository<ParametersRepository>('ParametersRepository', backend, open, (opened) => {
    it('numbers versions, refuses a second create, keeps each version', async () => {
      const store = opened();
      assert.deepEqual(await store.putParameter(write('/app/a', 'one', { tags: [{ TagKey: 't', TagValue: 'v' }] }), LIMITS), { kind: 'written', version: 1 });
      assert.deepEqual(await store.putParameter(write('/app/a', 'two'), LIMITS), { kind: 'exists' });
      assert.deepEqual(await store.putParameter(write('/app/a', 'two', { description: 'd' }), { ...LIMITS, overwrite: true }), { kind: 'written', version: 2 });
      const latest = await store.getParameter(ACCOUNT, REGION, '/app/a');
      assert.equal(latest?.value, 'two');
      assert.equal(latest?.version, 2);
      assert.equal(latest?.description, 'd');
      assert.equal((await store.getParameter(ACCOUNT, REGION, '/app/a', { version: 1 }))?.value, 'one');
      assert.equal(await store.getParameter(ACCOUNT, REGION, '/app/a', { version: 3 }), undefined);
      assert.equal(await store.getParameter('222222222222', REGION, '/app/a'), undefined);
      assert.deepEqual((await store.listParameterVersions(ACCOUNT, REGION, '/app/a')).map((v) => v.value), ['one', 'two']);
      assert.deepEqual(await store.getParameterTags(ACCOUNT, REGION, '/app/a'), [{ TagKey: 't', TagValue: 'v' }]);
    });

    it('drops the oldest version past the limit unless it has a label', async () => {
      const store = opened();
      const limits = { ...LIMITS, overwrite: true, maxVersions: 3 };
      for (const value of ['1', '2', '3', '4']) await store.putParameter(write('/limit/p', value), limits);
      assert.deepEqual((await store.listParameterVersions(ACCOUNT, REGION, '/limit/p')).map((v) => v.version), [2, 3, 4]);
      assert.deepEqual(await store.labelParameterVersion(ACCOUNT, REGION, '/limit/p', 2, ['keep'], 10), { kind: 'labelled', version: 2 });
      assert.deepEqual(await store.putParameter(write('/limit/p', '5'), limits), { kind: 'oldest-version-labelled' });
      assert.equal((await store.getParameter(ACCOUNT, REGION, '/limit/p'))?.version, 4);
    });

    it('counts standard parameters against the limit', async () => {
      const store = opened();
      const limits = { ...LIMITS, maxStandardParameters: 1 };
      const other = { accountId: '333333333333' };
      assert.equal((await store.putParameter(write('/one', 'x', other), limits)).kind, 'written');
      assert.deepEqual(await store.putParameter(write('/two', 'x', other), limits), { kind: 'parameter-limit' });
      assert.equal((await store.putParameter(write('/two', 'x', { ...other, tier: 'Advanced' }), limits)).kind, 'written');
    });

    it('moves labels between versions, keeps the label limit, unlabels', async () => {
      const store = opened();
      await store.putParameter(write('/labels/p', 'v1'), LIMITS);
      await store.putParameter(write('/labels/p', 'v2'), { ...LIMITS, overwrite: true });
      assert.deepEqual(await store.labelParameterVersion(ACCOUNT, REGION, '/labels/p', 1, ['prod', 'blue'], 10), { kind: 'labelled', version: 1 });
      assert.deepEqual(await store.labelParameterVersion(ACCOUNT, REGION, '/labels/p', undefined, ['prod'], 10), { kind: 'labelled', version: 2 });
      const versions = await store.listParameterVersions(ACCOUNT, REGION, '/labels/p');
      assert.deepEqual(versions.map((v) => v.labels), [['blue'], ['prod']]);
      assert.equal((await store.getParameter(ACCOUNT, REGION, '/labels/p', { label: 'prod' }))?.value, 'v2');
      assert.deepEqual(await store.labelParameterVersion(ACCOUNT, REGION, '/labels/p', 2, ['a', 'b'], 2), { kind: 'limit-exceeded' });
      assert.deepEqual(await store.labelParameterVersion(ACCOUNT, REGION, '/labels/p', 9, ['a'], 10), { kind: 'version-absent' });
      assert.deepEqual(await store.labelParameterVersion(ACCOUNT, REGION, '/labels/none', 1, ['a'], 10), { kind: 'absent' });
      assert.deepEqual(await store.unlabelParameterVersion(ACCOUNT, REGION, '/labels/p', 2, ['prod', 'nope']), { kind: 'unlabelled', removed: ['prod'] });
      assert.equal(await store.getParameter(ACCOUNT, REGION, '/labels/p', { label: 'prod' }), undefined);
    });

    it('lists a path one level or recursively, in name order, by pages', async () => {
      const store = opened();
      const names = ['/tree/a', '/tree/b', '/tree/sub/c', '/tree/sub/deep/d', '/treetop', '/other/x'];
      for (const name of names) await store.putParameter(write(name, name, { accountId: '444444444444' }), LIMITS);
      const list = async (prefix: string | undefined, recursive: boolean) => {
        const seen: string[] = [];
        let afterName: string | undefined;
        do {
          const page = await store.listParameters('444444444444', REGION, { prefix, recursive, afterName, limit: 2 });
          seen.push(...page.items.map((item) => item.name));
          afterName = page.nextMarker;
        } while (afterName);
        return seen;
      };
      assert.deepEqual(await list('/tree/', false), ['/tree/a', '/tree/b']);
      assert.deepEqual(await list('/tree/', true), ['/tree/a', '/tree/b', '/tree/sub/c', '/tree/sub/deep/d']);
      assert.deepEqual(await list(undefined, true), [...names].sort());
    });

    it('keeps a sealed value only as bytes, tags within the limit, deletes, expires', async () => {
      const store = opened();
      const sealed = { encryptedDataKey: Buffer.from([1, 2, 3]), sealedValue: Buffer.from([4, 5, 6]) };
      await store.putParameter(write('/secure', '', { type: 'SecureString', value: undefined, sealed, keyId: 'arn:k', expiresAt: new Date(2_000) }), LIMITS);
      const stored = await store.getParameter(ACCOUNT, REGION, '/secure');
      assert.deepEqual(stored?.sealed, sealed);
      assert.equal(stored?.value, undefined);
      assert.equal(stored?.expiresAt?.getTime(), 2_000);
      assert.equal(await store.tagParameter(ACCOUNT, REGION, '/secure', [{ TagKey: 'a', TagValue: '1' }], 1), 'updated');
      assert.equal(await store.tagParameter(ACCOUNT, REGION, '/secure', [{ TagKey: 'b', TagValue: '2' }], 1), 'limit-exceeded');
      assert.equal(await store.tagParameter(ACCOUNT, REGION, '/nope', [{ TagKey: 'b', TagValue: '2' }], 1), 'absent');
      assert.equal(await store.untagParameter(ACCOUNT, REGION, '/secure', ['a']), true);
      assert.deepEqual(await store.getParameterTags(ACCOUNT, REGION, '/secure'), []);
      assert.deepEqual(await store.deleteExpiredParameters(new Date(1_999)), []);
      assert.deepEqual(await store.deleteExpiredParameters(new Date(2_000)), [{ accountId: ACCOUNT, region: REGION, name: '/secure' }]);
      assert.equal(await store.getParameter(ACCOUNT, REGION, '/secure'), undefined);
      await store.putParameter(write('/gone', 'x'), LIMITS);
      assert.equal(await store.deleteParameter(ACCOUNT, REGION, '/gone'), true);
      assert.equal(await store.deleteParameter(ACCOUNT, REGION, '/gone'), false);
      assert.deepEqual(await store.listParameterVersions(ACCOUNT, REGION, '/gone'), []);
    });
  });
}
