import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { beforeEach, it } from 'node:test';
import type { GrantRecord, KmsRepository } from '../../../src/store/index.js';
import { describeRepository, type OpenRepositories } from '../repository-suite.js';
import { newBacking, newKey } from '../sample-records.js';
import { multiRegionCases } from './multi-region-cases.js';

/**
 * The conformance suite of KmsRepository, which every backend passes: keys, backing keys, tags, aliases and
 * grants; scoping, conditional updates, races and cascades.
 */
export function runKmsRepositorySuite(backend: string, open: OpenRepositories<KmsRepository>): void {
  describeRepository<KmsRepository>('KmsRepository', backend, open, (opened) => {
    let store: KmsRepository;
    beforeEach(() => {
      store = opened();
    });

    multiRegionCases(() => store);

    it('createKey stores the key, its first backing key and tags together', async () => {
      const { key, backing } = newKey('111111111111', 'us-east-1');
      await store.createKey(key, backing, [{ TagKey: 'team', TagValue: 'core' }]);
      assert.deepEqual(await store.getKey(key.accountId, key.region, key.keyId), key);
      assert.deepEqual(await store.getBackingKey(key.keyId, backing.backingKeyId), backing);
      assert.deepEqual(await store.listKeyTags(key.keyId), [{ TagKey: 'team', TagValue: 'core' }]);
    });

    it('keeps an asymmetric key: its spec and usage, and a private key sealed in several KiB, byte for byte', async () => {
      const sample = newKey('111111111111', 'us-east-1');
      const key = { ...sample.key, keySpec: 'RSA_4096', keyUsage: 'SIGN_VERIFY' };
      // A sealed RSA 4096 PKCS#8 private key is about 2.4 KiB; leave room for larger ones.
      const backing = { ...sample.backing, sealedMaterial: randomBytes(8192) };
      await store.createKey(key, backing, []);
      assert.deepEqual(await store.getKey(key.accountId, key.region, key.keyId), key);
      assert.deepEqual(await store.getBackingKey(key.keyId, backing.backingKeyId), backing);
    });

    it('countKeysByState counts the keys of every account and Region in each state', async () => {
      const before = await store.countKeysByState();
      const enabled = newKey('111111111111', 'us-east-1');
      const disabled = newKey('222222222222', 'eu-west-1');
      await store.createKey(enabled.key, enabled.backing, []);
      await store.createKey(disabled.key, disabled.backing, []);
      await store.updateKey(disabled.key.accountId, disabled.key.region, disabled.key.keyId, { keyState: 'Disabled' });
      const after = await store.countKeysByState();
      assert.equal((after.Enabled ?? 0) - (before.Enabled ?? 0), 1);
      assert.equal((after.Disabled ?? 0) - (before.Disabled ?? 0), 1);
      assert.ok(Object.values(after).every((count) => Number.isInteger(count) && count! > 0), 'states without keys are absent');
    });

    it('scopes keys by account and region', async () => {
      const { key, backing } = newKey('111111111111', 'us-east-1');
      await store.createKey(key, backing, []);
      assert.equal(await store.getKey('222222222222', 'us-east-1', key.keyId), undefined);
      assert.equal(await store.getKey('111111111111', 'eu-west-1', key.keyId), undefined);
    });

    it('a failed createKey leaves nothing behind', async () => {
      const { key, backing } = newKey('111111111111', 'us-east-1');
      // The backing key names a key that does not exist, so its insert fails after the key's own insert.
      await assert.rejects(store.createKey(key, { ...backing, keyId: randomUUID() }, []));
      assert.equal(await store.getKey(key.accountId, key.region, key.keyId), undefined);
    });

    it('lists keys in pages, each key once', async () => {
      const accountId = '333333333333';
      const created = [];
      for (let i = 0; i < 5; i++) {
        const { key, backing } = newKey(accountId, 'us-east-1');
        await store.createKey(key, backing, []);
        created.push(key.keyId);
      }
      const seen: string[] = [];
      let marker: string | undefined;
      do {
        const page = await store.listKeys(accountId, 'us-east-1', { limit: 2, marker });
        assert.ok(page.items.length <= 2);
        seen.push(...page.items.map((key) => key.keyId));
        marker = page.nextMarker;
      } while (marker);
      assert.deepEqual(seen.sort(), created.sort());
    });

    it('updateKey applies a patch only in the expected states', async () => {
      const { key, backing } = newKey('111111111111', 'us-east-1');
      await store.createKey(key, backing, []);
      const deletionDate = new Date(key.creationDate.getTime() + 7 * 86_400_000);
      const pending = await store.updateKey(key.accountId, key.region, key.keyId, { keyState: 'PendingDeletion', deletionDate, pendingWindowDays: 7 }, ['Enabled', 'Disabled']);
      assert.equal(pending?.keyState, 'PendingDeletion');
      assert.deepEqual(pending?.deletionDate, deletionDate);
      const again = await store.updateKey(key.accountId, key.region, key.keyId, { keyState: 'PendingDeletion' }, ['Enabled', 'Disabled']);
      assert.equal(again, undefined);
      const cancelled = await store.updateKey(key.accountId, key.region, key.keyId, { keyState: 'Disabled', deletionDate: undefined, pendingWindowDays: undefined }, ['PendingDeletion']);
      assert.equal(cancelled?.keyState, 'Disabled');
      assert.equal(cancelled?.deletionDate, undefined);
    });

    it('rotateKeyOnDemand makes the new backing key current, keeps the old ones and enforces its limit', async () => {
      const { key, backing } = newKey('111111111111', 'us-east-1');
      await store.createKey(key, backing, []);
      const rotated = newBacking(key, 'ON_DEMAND', 1000);
      assert.equal(await store.rotateKeyOnDemand(rotated, 1), true);
      assert.equal((await store.getKey(key.accountId, key.region, key.keyId))?.currentBackingKeyId, rotated.backingKeyId);
      assert.deepEqual((await store.listBackingKeys(key.keyId)).map((b) => b.backingKeyId), [backing.backingKeyId, rotated.backingKeyId]);
      const refused = newBacking(key, 'ON_DEMAND', 2000);
      assert.equal(await store.rotateKeyOnDemand(refused, 1), false);
      assert.equal(await store.getBackingKey(key.keyId, refused.backingKeyId), undefined);
    });

    it('rotateKeyOnSchedule rotates a due key once, however many callers race for it', async () => {
      const { key, backing } = newKey('111111111111', 'us-east-1');
      const due = new Date(key.creationDate.getTime() + 365 * 86_400_000);
      await store.createKey({ ...key, rotationEnabled: true, rotationPeriodDays: 365, nextRotationDate: due }, backing, []);
      const next = new Date(due.getTime() + 365 * 86_400_000);
      const attempts = await Promise.all([1, 2, 3].map((i) => store.rotateKeyOnSchedule(newBacking(key, 'AUTOMATIC', i), due, next)));
      assert.deepEqual(attempts.filter(Boolean).length, 1);
      const reread = await store.getKey(key.accountId, key.region, key.keyId);
      assert.deepEqual(reread?.nextRotationDate, next);
      assert.equal((await store.listBackingKeys(key.keyId)).length, 2);
    });

    it('rotateKeyForUsage rotates only from the current backing key: one of several racers wins, the schedule stays', async () => {
      const { key, backing } = newKey('111111111111', 'us-east-1');
      const due = new Date(key.creationDate.getTime() + 365 * 86_400_000);
      await store.createKey({ ...key, rotationEnabled: true, rotationPeriodDays: 365, nextRotationDate: due }, backing, []);
      const racers = [1, 2, 3].map((i) => newBacking(key, 'AUTOMATIC', i));
      const attempts = await Promise.all(racers.map((racer) => store.rotateKeyForUsage(racer, backing.backingKeyId)));
      assert.equal(attempts.filter(Boolean).length, 1);
      const winner = racers[attempts.indexOf(true)]!;
      const reread = await store.getKey(key.accountId, key.region, key.keyId);
      assert.equal(reread?.currentBackingKeyId, winner.backingKeyId);
      assert.deepEqual(reread?.nextRotationDate, due);
      assert.deepEqual((await store.listBackingKeys(key.keyId)).map((b) => [b.backingKeyId, b.rotationType]), [
        [backing.backingKeyId, undefined],
        [winner.backingKeyId, 'AUTOMATIC'],
      ]);
      // From a backing key that is no longer current: nothing written.
      const stale = newBacking(key, 'AUTOMATIC', 10);
      assert.equal(await store.rotateKeyForUsage(stale, backing.backingKeyId), false);
      assert.equal(await store.getBackingKey(key.keyId, stale.backingKeyId), undefined);
      // Not an on-demand rotation: the on-demand limit still has room.
      assert.equal(await store.rotateKeyOnDemand(newBacking(key, 'ON_DEMAND', 20), 1), true);
    });

    it('reserveEncryptions adds up per backing key id, and concurrent reservations never overlap', async () => {
      const first = randomUUID();
      const second = randomUUID();
      assert.equal(await store.reserveEncryptions(first, 4096), 4096);
      assert.equal(await store.reserveEncryptions(first, 10), 4106);
      assert.equal(await store.reserveEncryptions(second, 1), 1);
      const totals = await Promise.all(Array.from({ length: 20 }, () => store.reserveEncryptions(second, 5)));
      assert.deepEqual([...totals].sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => 1 + 5 * (i + 1)));
      // Past 2^32 (the AES-GCM bound the count is kept for) the total is still exact.
      assert.equal(await store.reserveEncryptions(first, 2 ** 32), 2 ** 32 + 4106);
    });

    it('imported material: a key without material, import (only EXTERNAL, in the given states, only the same material id), re-import, delete', async () => {
      const { key } = newKey('111111111111', 'us-east-1');
      const external = { ...key, origin: 'EXTERNAL', keyState: 'PendingImport' as const, currentBackingKeyId: '' };
      await store.createKey(external, undefined, []);
      assert.deepEqual(await store.getKey(key.accountId, key.region, key.keyId), external);
      assert.deepEqual(await store.listBackingKeys(key.keyId), []);

      const materialId = 'a'.repeat(64);
      const backing = { keyId: key.keyId, backingKeyId: randomUUID(), sealedMaterial: randomBytes(60), createdAt: key.creationDate, rotationType: undefined };
      const validTo = new Date(key.creationDate.getTime() + 86_400_000);
      assert.equal(await store.importKeyMaterial(backing, { keyMaterialId: materialId, expirationModel: 'KEY_MATERIAL_EXPIRES', validTo }, ['Enabled']), undefined, 'not in that state');
      const imported = await store.importKeyMaterial(backing, { keyMaterialId: materialId, expirationModel: 'KEY_MATERIAL_EXPIRES', validTo }, ['PendingImport', 'Enabled']);
      assert.equal(imported?.keyState, 'Enabled');
      assert.equal(imported?.currentBackingKeyId, backing.backingKeyId);
      assert.deepEqual(imported?.validTo, validTo);
      assert.equal(imported?.expirationModel, 'KEY_MATERIAL_EXPIRES');
      assert.equal(imported?.keyMaterialId, materialId);
      assert.deepEqual(await store.getBackingKey(key.keyId, backing.backingKeyId), backing);

      // The same material again (the backing key is already there): only the expiry changes.
      const again = await store.importKeyMaterial(backing, { keyMaterialId: materialId, expirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' }, ['PendingImport', 'Enabled']);
      assert.equal(again?.expirationModel, 'KEY_MATERIAL_DOES_NOT_EXPIRE');
      assert.equal(again?.validTo, undefined);
      assert.equal((await store.listBackingKeys(key.keyId)).length, 1);
      // Other material is refused, and changes nothing.
      const other = { ...backing, backingKeyId: randomUUID() };
      assert.equal(await store.importKeyMaterial(other, { keyMaterialId: 'b'.repeat(64), expirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' }, ['PendingImport', 'Enabled']), undefined);
      assert.equal(await store.getBackingKey(key.keyId, other.backingKeyId), undefined);

      assert.equal(await store.deleteImportedKeyMaterial(key.keyId, { whenStates: ['Disabled'] }), undefined, 'not in that state');
      const deleted = await store.deleteImportedKeyMaterial(key.keyId, { whenStates: ['Enabled'] });
      assert.equal(deleted?.keyState, 'PendingImport');
      assert.equal(deleted?.currentBackingKeyId, '');
      assert.equal(deleted?.expirationModel, undefined);
      assert.equal(deleted?.keyMaterialId, materialId, 'the material id stays as a check value');
      assert.deepEqual(await store.listBackingKeys(key.keyId), []);
      assert.equal(await store.deleteImportedKeyMaterial(key.keyId, {}), undefined, 'nothing left to delete');
      assert.equal((await store.importKeyMaterial(backing, { keyMaterialId: materialId, expirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' }, ['PendingImport']))?.keyState, 'Enabled');
    });

    it('imported material: only keys with Origin EXTERNAL; expiry is listed and deleted once, a key pending deletion keeps its state', async () => {
      const { key, backing } = newKey('111111111111', 'us-east-1');
      await store.createKey(key, backing, []);
      const material = { keyMaterialId: 'c'.repeat(64), expirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' as const };
      assert.equal(await store.importKeyMaterial({ ...backing, backingKeyId: randomUUID() }, material, ['Enabled']), undefined, 'AWS_KMS key');
      assert.equal(await store.deleteImportedKeyMaterial(key.keyId, {}), undefined, 'AWS_KMS key');
      assert.equal((await store.listBackingKeys(key.keyId)).length, 1);

      const { key: externalKey } = newKey('111111111111', 'us-east-1');
      await store.createKey({ ...externalKey, origin: 'EXTERNAL', keyState: 'PendingImport', currentBackingKeyId: '' }, undefined, []);
      const validTo = new Date(externalKey.creationDate.getTime() + 86_400_000);
      const importedBacking = { keyId: externalKey.keyId, backingKeyId: randomUUID(), sealedMaterial: randomBytes(60), createdAt: externalKey.creationDate };
      await store.importKeyMaterial(importedBacking, { keyMaterialId: 'd'.repeat(64), expirationModel: 'KEY_MATERIAL_EXPIRES', validTo }, ['PendingImport']);
      await store.updateKey(externalKey.accountId, externalKey.region, externalKey.keyId, { keyState: 'PendingDeletion' });

      const early = new Date(validTo.getTime() - 1);
      assert.ok(!(await store.listKeysWithExpiredMaterial(early, 100)).some((k) => k.keyId === externalKey.keyId));
      assert.equal(await store.deleteImportedKeyMaterial(externalKey.keyId, { expiredBy: early }), undefined, 'not expired yet');
      assert.ok((await store.listKeysWithExpiredMaterial(validTo, 100)).some((k) => k.keyId === externalKey.keyId));
      const attempts = await Promise.all([1, 2, 3].map(() => store.deleteImportedKeyMaterial(externalKey.keyId, { expiredBy: validTo })));
      assert.equal(attempts.filter(Boolean).length, 1, 'deleted once');
      const after = await store.getKey(externalKey.accountId, externalKey.region, externalKey.keyId);
      assert.equal(after?.keyState, 'PendingDeletion');
      assert.equal(after?.validTo, undefined);
      assert.ok(!(await store.listKeysWithExpiredMaterial(validTo, 100)).some((k) => k.keyId === externalKey.keyId));
    });

    it('destroyKey removes a due key with its backing keys, tags and aliases, and nothing else', async () => {
      const { key, backing } = newKey('444444444444', 'us-east-1');
      await store.createKey(key, backing, [{ TagKey: 'a', TagValue: 'b' }]);
      await store.createAlias({ accountId: key.accountId, region: key.region, aliasName: 'alias/doomed', targetKeyId: key.keyId, creationDate: key.creationDate, lastUpdatedDate: key.creationDate });
      const deletionDate = new Date(key.creationDate.getTime() + 7 * 86_400_000);
      assert.equal(await store.destroyKey(key.keyId, deletionDate), false, 'an Enabled key is never destroyed');
      await store.updateKey(key.accountId, key.region, key.keyId, { keyState: 'PendingDeletion', deletionDate });
      assert.equal(await store.destroyKey(key.keyId, new Date(deletionDate.getTime() - 1)), false, 'not before its date');
      assert.deepEqual((await store.listKeysDueForDeletion(deletionDate, 100)).map((k) => k.keyId).includes(key.keyId), true);
      assert.equal(await store.destroyKey(key.keyId, deletionDate), true);
      assert.equal(await store.getKey(key.accountId, key.region, key.keyId), undefined);
      assert.equal(await store.getBackingKey(key.keyId, backing.backingKeyId), undefined);
      assert.deepEqual(await store.listKeyTags(key.keyId), []);
      assert.equal(await store.getAlias(key.accountId, key.region, 'alias/doomed'), undefined);
    });

    it('getKeyById finds a key in any account and region', async () => {
      const { key, backing } = newKey('121212121212', 'ap-south-1');
      await store.createKey(key, backing, []);
      assert.deepEqual(await store.getKeyById(key.keyId), key);
      assert.equal(await store.getKeyById(randomUUID()), undefined);
    });

    it('grants: insert-or-get by key, name and fingerprint; listed by key, grantee and retiring principal; gone with their key', async () => {
      const { key, backing } = newKey('131313131313', 'us-east-1');
      await store.createKey(key, backing, []);
      const grant = (name: string | undefined, fingerprint: string, extra: Partial<GrantRecord> = {}): GrantRecord => ({
        grantId: randomBytes(32).toString('hex'),
        keyId: key.keyId,
        keyArn: key.arn,
        name,
        granteePrincipal: 'arn:aws:iam::131313131313:user/alice',
        retiringPrincipal: 'arn:aws:iam::131313131313:role/retirer',
        issuingAccount: 'arn:aws:iam::131313131313:root',
        operations: ['Decrypt'],
        constraints: { EncryptionContextSubset: { a: '1' } },
        creationDate: new Date(1_700_000_000_000),
        fingerprint,
        ...extra,
      });
      const named = grant('retry', 'f1');
      assert.deepEqual(await store.createGrant(named), named);
      assert.deepEqual(await store.createGrant(grant('retry', 'f1')), named, 'the same name and fingerprint find the first grant');
      const other = await store.createGrant(grant('retry', 'f2'));
      assert.notEqual(other.grantId, named.grantId);
      const unnamed = [await store.createGrant(grant(undefined, 'f1')), await store.createGrant(grant(undefined, 'f1'))];
      assert.notEqual(unnamed[0]!.grantId, unnamed[1]!.grantId, 'without a name every grant is new');
      const bob = await store.createGrant(grant(undefined, 'f3', { granteePrincipal: 'arn:aws:iam::131313131313:user/bob', retiringPrincipal: undefined }));

      assert.deepEqual(await store.getGrant(key.keyId, named.grantId), named);
      const all = await store.listGrants(key.keyId, { limit: 10 });
      assert.equal(all.items.length, 5);
      const first = await store.listGrants(key.keyId, { limit: 3 });
      const rest = await store.listGrants(key.keyId, { limit: 3, marker: first.nextMarker });
      assert.deepEqual([...first.items, ...rest.items].map((g) => g.grantId), all.items.map((g) => g.grantId));
      assert.equal(rest.nextMarker, undefined);
      assert.deepEqual((await store.listGrants(key.keyId, { limit: 10, granteePrincipal: bob.granteePrincipal })).items, [bob]);
      assert.deepEqual((await store.listGrants(key.keyId, { limit: 10, grantId: named.grantId })).items, [named]);
      assert.equal((await store.listRetirableGrants('arn:aws:iam::131313131313:role/retirer', { limit: 10 })).items.length, 4);
      assert.deepEqual(
        (await store.listGrantsForGrantee(key.keyId, ['arn:aws:iam::131313131313:user/bob', 'arn:aws:iam::131313131313:role/x'])).map((g) => g.grantId),
        [bob.grantId],
      );

      assert.equal(await store.deleteGrant(key.keyId, named.grantId), true);
      assert.equal(await store.deleteGrant(key.keyId, named.grantId), false);
      const deletionDate = new Date(key.creationDate.getTime() + 7 * 86_400_000);
      await store.updateKey(key.accountId, key.region, key.keyId, { keyState: 'PendingDeletion', deletionDate });
      assert.equal(await store.destroyKey(key.keyId, deletionDate), true);
      assert.deepEqual((await store.listRetirableGrants('arn:aws:iam::131313131313:role/retirer', { limit: 10 })).items, []);
      await assert.rejects(store.createGrant(grant('late', 'f9')), 'a grant needs its key');
    });

    it('aliases are unique per account and region', async () => {
      const { key, backing } = newKey('555555555555', 'us-east-1');
      await store.createKey(key, backing, []);
      const alias = { accountId: key.accountId, region: key.region, aliasName: 'alias/app', targetKeyId: key.keyId, creationDate: key.creationDate, lastUpdatedDate: key.creationDate };
      assert.equal(await store.createAlias(alias), true);
      assert.equal(await store.createAlias(alias), false);
      const other = newKey('555555555555', 'eu-west-1');
      await store.createKey(other.key, other.backing, []);
      assert.equal(await store.createAlias({ ...alias, region: 'eu-west-1', targetKeyId: other.key.keyId }), true);
      assert.equal(await store.updateAlias(key.accountId, key.region, 'alias/missing', key.keyId, new Date()), false);
      assert.equal(await store.deleteAlias(key.accountId, key.region, 'alias/app'), true);
      assert.equal(await store.deleteAlias(key.accountId, key.region, 'alias/app'), false);
    });

    it('tags upsert by key and remove by key', async () => {
      const { key, backing } = newKey('111111111111', 'us-east-1');
      await store.createKey(key, backing, [{ TagKey: 'a', TagValue: '1' }]);
      assert.equal(await store.putKeyTags(key.keyId, [{ TagKey: 'a', TagValue: '2' }, { TagKey: 'b', TagValue: '3' }], 2), true);
      assert.equal(await store.putKeyTags(key.keyId, [{ TagKey: 'c', TagValue: '4' }], 2), false, 'a third tag is over the limit');
      assert.deepEqual(await store.listKeyTags(key.keyId), [{ TagKey: 'a', TagValue: '2' }, { TagKey: 'b', TagValue: '3' }]);
      await store.removeKeyTags(key.keyId, ['a', 'absent']);
      assert.deepEqual(await store.listKeyTags(key.keyId), [{ TagKey: 'b', TagValue: '3' }]);
    });
  });
}
