import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { beforeEach, it } from 'node:test';
import { rootSealedCursor, type IamRepository, type KmsRepository, type RootSealedRecord, type RootSealedRepository, type StoreLifecycle } from '../../../src/store/index.js';
import { describeRepository, type OpenRepositories } from '../repository-suite.js';
import { newKey } from '../sample-records.js';

type Repositories = RootSealedRepository & Pick<KmsRepository, 'createKey' | 'getBackingKey'> & Pick<IamRepository, 'insertAccessKey' | 'getAccessKey'>;

/** Every record of one kind, page by page (as a rekey pass reads them). */
async function listAll(store: RootSealedRepository, kind: RootSealedRecord['kind'], pageSize: number): Promise<RootSealedRecord[]> {
  const all: RootSealedRecord[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await store.listRootSealed(kind, after, pageSize);
    all.push(...page);
    if (page.length < pageSize) return all;
    after = rootSealedCursor(page[page.length - 1]!);
  }
}

/** The conformance suite of RootSealedRepository: the records a rekey re-wraps (KMS backing keys, access key secrets). */
export function runRootSealedRepositorySuite(backend: string, open: OpenRepositories<Repositories>): void {
  describeRepository<Repositories>('RootSealedRepository', backend, open, (opened) => {
    let store: Repositories & StoreLifecycle;
    beforeEach(() => {
      store = opened();
    });

    it('lists every backing key with its key ARN, and every access key, page by page without repeats', async () => {
      const keys = Array.from({ length: 5 }, () => newKey('111111111111', 'us-east-1'));
      for (const { key, backing } of keys) await store.createKey(key, backing, []);
      for (let index = 0; index < 5; index++) {
        await store.insertAccessKey({ accessKeyId: `AKIAROOTSEALED${index}`, accountId: '111111111111', principalArn: 'arn:aws:iam::111111111111:root', sealedSecret: randomBytes(40), createdAt: new Date(1_700_000_000_000), expiresAt: undefined });
      }
      const backings = await listAll(store, 'backing-key', 2);
      for (const { key, backing } of keys) {
        const found = backings.find((record) => record.kind === 'backing-key' && record.keyId === key.keyId && record.backingKeyId === backing.backingKeyId);
        assert.ok(found, 'every backing key is listed');
        assert.equal(found.kind === 'backing-key' && found.keyArn, key.arn);
        assert.deepEqual(found.sealed, backing.sealedMaterial);
      }
      assert.equal(new Set(backings.map(rootSealedCursor)).size, backings.length, 'no record twice');
      const accessKeys = await listAll(store, 'access-key', 2);
      for (let index = 0; index < 5; index++) assert.ok(accessKeys.some((record) => record.kind === 'access-key' && record.accessKeyId === `AKIAROOTSEALED${index}`));
      assert.equal(new Set(accessKeys.map(rootSealedCursor)).size, accessKeys.length);
    });

    it('replaceRootSealed swaps the sealed bytes only if they are still the ones read', async () => {
      const { key, backing } = newKey('111111111111', 'us-east-1');
      await store.createKey(key, backing, []);
      const [record] = (await listAll(store, 'backing-key', 100)).filter((each) => each.kind === 'backing-key' && each.keyId === key.keyId);
      const replacement = randomBytes(60);
      assert.equal(await store.replaceRootSealed(record!, replacement), true);
      assert.deepEqual((await store.getBackingKey(key.keyId, backing.backingKeyId))?.sealedMaterial, replacement);
      assert.equal(await store.replaceRootSealed(record!, randomBytes(60)), false, 'a stale read loses');
      assert.deepEqual((await store.getBackingKey(key.keyId, backing.backingKeyId))?.sealedMaterial, replacement);

      await store.insertAccessKey({ accessKeyId: 'AKIAROOTSEALEDCAS', accountId: '111111111111', principalArn: 'arn:aws:iam::111111111111:root', sealedSecret: randomBytes(40), createdAt: new Date(1_700_000_000_000), expiresAt: undefined });
      const accessKey = (await listAll(store, 'access-key', 100)).find((each) => each.kind === 'access-key' && each.accessKeyId === 'AKIAROOTSEALEDCAS')!;
      const secret = randomBytes(40);
      assert.equal(await store.replaceRootSealed(accessKey, secret), true);
      assert.deepEqual((await store.getAccessKey('AKIAROOTSEALEDCAS'))?.sealedSecret, secret);
      assert.equal(await store.replaceRootSealed(accessKey, randomBytes(40)), false);
    });
  });
}
