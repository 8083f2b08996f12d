import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { it } from 'node:test';
import { keyStoreId, MultiRegionKeyChangedError, type BackingKeyRecord, type KeyRecord, type KmsRepository } from '../../../src/store/index.js';
import { newKey } from '../sample-records.js';

const DAY_MS = 86_400_000;

/** A multi-Region primary in `region`: key id `mrk-…`, stored under `<id>/<region>`. */
function newPrimary(accountId: string, region: string): { key: KeyRecord; backing: BackingKeyRecord } {
  const { key, backing } = newKey(accountId, region);
  const keyId = `mrk-${randomBytes(16).toString('hex')}`;
  const primary: KeyRecord = { ...key, keyId, arn: `arn:aws:kms:${region}:${accountId}:key/${keyId}`, primaryRegion: region };
  return { key: primary, backing: { ...backing, keyId: keyStoreId(primary) } };
}

/** A replica of `primary` in `region`, and its copies of the given backing keys (same ids, other sealed bytes). */
function replicaOf(primary: KeyRecord, region: string, backings: BackingKeyRecord[]): { replica: KeyRecord; replicaBackings: BackingKeyRecord[] } {
  const replica: KeyRecord = { ...primary, region, arn: `arn:aws:kms:${region}:${primary.accountId}:key/${primary.keyId}`, description: 'replica' };
  return { replica, replicaBackings: backings.map((backing) => ({ ...backing, keyId: keyStoreId(replica), sealedMaterial: randomBytes(60) })) };
}

/** Cases of the KmsRepository suite for multi-Region keys (records/kms.ts keyStoreId); registered by kms-suite.ts. */
export function multiRegionCases(store: () => KmsRepository): void {
  it('multi-Region keys: one public id, one member per Region, each with its own backing keys, tags and aliases', async () => {
    const { key, backing } = newPrimary('515151515151', 'us-east-1');
    await store().createKey(key, backing, [{ TagKey: 'side', TagValue: 'east' }]);
    const { replica, replicaBackings } = replicaOf(key, 'eu-west-1', [backing]);
    assert.equal(await store().replicateKey(replica, replicaBackings, [{ TagKey: 'side', TagValue: 'west' }]), 'created');

    assert.deepEqual(await store().getKey(key.accountId, 'us-east-1', key.keyId), key);
    assert.deepEqual(await store().getKey(key.accountId, 'eu-west-1', key.keyId), replica);
    assert.deepEqual(await store().getKeyById(key.keyId, 'eu-west-1'), replica);
    assert.deepEqual(await store().getKeyById(key.keyId, 'us-east-1'), key);
    assert.equal(await store().getKeyById(key.keyId), undefined, 'a bare mrk id names no member');
    assert.equal(await store().getKeyById(key.keyId, 'ap-south-1'), undefined);
    assert.deepEqual((await store().listMultiRegionKeys(key.keyId)).map((member) => member.region), ['eu-west-1', 'us-east-1']);

    assert.deepEqual((await store().getBackingKey(keyStoreId(replica), backing.backingKeyId))?.sealedMaterial, replicaBackings[0]!.sealedMaterial);
    assert.deepEqual((await store().getBackingKey(keyStoreId(key), backing.backingKeyId))?.sealedMaterial, backing.sealedMaterial);
    assert.equal(await store().getBackingKey(key.keyId, backing.backingKeyId), undefined);
    assert.deepEqual(await store().listKeyTags(keyStoreId(key)), [{ TagKey: 'side', TagValue: 'east' }]);
    assert.deepEqual(await store().listKeyTags(keyStoreId(replica)), [{ TagKey: 'side', TagValue: 'west' }]);

    const now = key.creationDate;
    assert.equal(await store().createAlias({ accountId: key.accountId, region: 'eu-west-1', aliasName: 'alias/west', targetKeyId: key.keyId, creationDate: now, lastUpdatedDate: now }), true);
    assert.equal((await store().getAlias(key.accountId, 'eu-west-1', 'alias/west'))?.targetKeyId, key.keyId);
    assert.deepEqual((await store().listAliases(key.accountId, 'eu-west-1', { limit: 10, keyId: key.keyId })).items.map((alias) => alias.aliasName), ['alias/west']);
    assert.deepEqual((await store().listAliases(key.accountId, 'us-east-1', { limit: 10, keyId: key.keyId })).items, []);
    assert.equal(await store().updateAlias(key.accountId, 'eu-west-1', 'alias/west', key.keyId, now), true);
    assert.equal((await store().getAlias(key.accountId, 'eu-west-1', 'alias/west'))?.targetKeyId, key.keyId);

    // Paging a Region's keys lists a member once.
    const { key: second, backing: secondBacking } = newPrimary('515151515151', 'eu-west-1');
    await store().createKey(second, secondBacking, []);
    const seen: string[] = [];
    let marker: string | undefined;
    do {
      const page = await store().listKeys(key.accountId, 'eu-west-1', { limit: 1, marker });
      seen.push(...page.items.map((item) => item.keyId));
      marker = page.nextMarker;
    } while (marker);
    assert.deepEqual(seen.sort(), [key.keyId, second.keyId].sort());
  });

  it('replicateKey: exists in a Region with a member; changed when the primary moved on; nothing written then', async () => {
    const { key, backing } = newPrimary('525252525252', 'us-east-1');
    await store().createKey(key, backing, []);
    const west = replicaOf(key, 'eu-west-1', [backing]);
    assert.equal(await store().replicateKey(west.replica, west.replicaBackings, []), 'created');
    assert.equal(await store().replicateKey(west.replica, west.replicaBackings, []), 'exists');
    const self = replicaOf(key, 'us-east-1', [backing]);
    assert.equal(await store().replicateKey(self.replica, self.replicaBackings, []), 'exists');

    // A backing key the copy lacks (a rotation came between reading and writing).
    const extra: BackingKeyRecord = { ...backing, backingKeyId: randomUUID(), rotationType: 'ON_DEMAND' };
    const west2 = replicaOf(key, 'eu-west-2', [backing]);
    const eastExtra = { ...extra, keyId: keyStoreId(key) };
    const westExtra = { ...extra, keyId: keyStoreId(west.replica) };
    assert.equal(await store().rotateKeyOnDemand(eastExtra, 25, [westExtra]), true);
    assert.equal(await store().replicateKey(west2.replica, west2.replicaBackings, []), 'changed');
    assert.equal(await store().getKey(key.accountId, 'eu-west-2', key.keyId), undefined);
    const west2Full = replicaOf(key, 'eu-west-2', [backing, extra]);
    assert.equal(await store().replicateKey(west2Full.replica, west2Full.replicaBackings, []), 'created');

    // A primary pending deletion is not replicated.
    await store().updateKey(key.accountId, key.region, key.keyId, { keyState: 'PendingDeletion', deletionDate: new Date(key.creationDate.getTime() + DAY_MS), pendingWindowDays: 7 });
    const south = replicaOf(key, 'ap-south-1', [backing, extra]);
    assert.equal(await store().replicateKey(south.replica, south.replicaBackings, []), 'changed');
    // Nor is a replica: only the member in primaryRegion counts as the source.
    const fromReplica = replicaOf({ ...west.replica, primaryRegion: 'eu-west-1' }, 'ap-south-1', [backing, extra]);
    assert.equal(await store().replicateKey(fromReplica.replica, fromReplica.replicaBackings, []), 'changed');
  });

  it('replicateKey of imported material: the replica is written without backing keys, PendingImport with the primary\'s material id', async () => {
    const { key, backing } = newPrimary('545454545454', 'us-east-1');
    const primary: KeyRecord = { ...key, origin: 'EXTERNAL', keyMaterialId: 'a'.repeat(64), expirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' };
    await store().createKey(primary, backing, []);
    const { replica } = replicaOf(primary, 'eu-west-1', []);
    const pending: KeyRecord = { ...replica, keyState: 'PendingImport', currentBackingKeyId: '', expirationModel: undefined };
    assert.equal(await store().replicateKey(pending, [], []), 'created');
    assert.deepEqual(await store().getKey(key.accountId, 'eu-west-1', key.keyId), pending);
    assert.deepEqual(await store().listBackingKeys(keyStoreId(pending)), []);
    assert.equal((await store().getBackingKey(keyStoreId(primary), backing.backingKeyId))?.backingKeyId, backing.backingKeyId);
    // A member PendingImport may be scheduled for deletion, as a single-Region key PendingImport may.
    const scheduled = await store().scheduleMultiRegionKeyDeletion(key.accountId, 'eu-west-1', key.keyId, 7, key.creationDate);
    assert.equal(scheduled?.keyState, 'PendingDeletion');
    // A key of KMS-made material still needs every backing key copied.
    const { key: made, backing: madeBacking } = newPrimary('545454545454', 'us-east-1');
    await store().createKey(made, madeBacking, []);
    assert.equal(await store().replicateKey(replicaOf(made, 'eu-west-1', []).replica, [], []), 'changed');
  });

  it('rotation of a multi-Region primary writes every replica in one transaction, or nothing when the replicas changed', async () => {
    const { key, backing } = newPrimary('535353535353', 'us-east-1');
    const due = new Date(key.creationDate.getTime() + 90 * DAY_MS);
    const scheduled = { ...key, rotationEnabled: true, rotationPeriodDays: 90, nextRotationDate: due };
    await store().createKey(scheduled, backing, []);
    const west = replicaOf(key, 'eu-west-1', [backing]);
    assert.equal(await store().replicateKey(west.replica, west.replicaBackings, []), 'created');

    const rotation = randomUUID();
    const eastBacking: BackingKeyRecord = { keyId: keyStoreId(key), backingKeyId: rotation, sealedMaterial: randomBytes(60), createdAt: due, rotationType: 'AUTOMATIC' };
    const westBacking: BackingKeyRecord = { ...eastBacking, keyId: keyStoreId(west.replica), sealedMaterial: randomBytes(60) };
    const next = new Date(due.getTime() + 90 * DAY_MS);
    // Sealed for no replica while one exists: refused, and the claim is not taken.
    await assert.rejects(store().rotateKeyOnSchedule(eastBacking, due, next, []), MultiRegionKeyChangedError);
    await assert.rejects(store().rotateKeyOnDemand(eastBacking, 25, []), MultiRegionKeyChangedError);
    await assert.rejects(store().rotateKeyForUsage(eastBacking, backing.backingKeyId, []), MultiRegionKeyChangedError);
    assert.equal((await store().getKey(key.accountId, 'us-east-1', key.keyId))?.currentBackingKeyId, backing.backingKeyId);
    assert.equal((await store().listBackingKeys(keyStoreId(key))).length, 1);

    assert.equal(await store().rotateKeyOnSchedule(eastBacking, due, next, [westBacking]), true);
    assert.equal((await store().getKey(key.accountId, 'us-east-1', key.keyId))?.currentBackingKeyId, rotation);
    assert.equal((await store().getKey(key.accountId, 'eu-west-1', key.keyId))?.currentBackingKeyId, rotation);
    assert.deepEqual((await store().getBackingKey(keyStoreId(west.replica), rotation))?.sealedMaterial, westBacking.sealedMaterial);

    // Rotation for usage (the encryption budget) reaches every member alike.
    const usage = randomUUID();
    const eastUsage: BackingKeyRecord = { ...eastBacking, backingKeyId: usage };
    const westUsage: BackingKeyRecord = { ...westBacking, backingKeyId: usage };
    assert.equal(await store().rotateKeyForUsage(eastUsage, rotation, [westUsage]), true);
    assert.equal((await store().getKey(key.accountId, 'eu-west-1', key.keyId))?.currentBackingKeyId, usage);
    assert.equal(await store().rotateKeyForUsage({ ...eastUsage, backingKeyId: randomUUID() }, rotation, [westUsage]), false);
  });

  it('updatePrimaryRegion moves the primary and the rotation settings; refuses a wrong primary or a Region without a member', async () => {
    const { key, backing } = newPrimary('545454545454', 'us-east-1');
    const nextRotationDate = new Date(key.creationDate.getTime() + 90 * DAY_MS);
    await store().createKey({ ...key, rotationEnabled: true, rotationPeriodDays: 90, nextRotationDate }, backing, []);
    const west = replicaOf(key, 'eu-west-1', [backing]);
    assert.equal(await store().replicateKey(west.replica, west.replicaBackings, []), 'created');

    assert.equal(await store().updatePrimaryRegion(key.keyId, 'eu-west-1', 'us-east-1'), false, 'eu-west-1 is not the primary');
    assert.equal(await store().updatePrimaryRegion(key.keyId, 'us-east-1', 'ap-south-1'), false, 'no member in ap-south-1');
    assert.equal(await store().updatePrimaryRegion(key.keyId, 'us-east-1', 'eu-west-1'), true);
    const [promoted, oldPrimary] = [await store().getKey(key.accountId, 'eu-west-1', key.keyId), await store().getKey(key.accountId, 'us-east-1', key.keyId)];
    assert.equal(promoted?.primaryRegion, 'eu-west-1');
    assert.equal(oldPrimary?.primaryRegion, 'eu-west-1');
    assert.equal(promoted?.rotationEnabled, true);
    assert.deepEqual(promoted?.nextRotationDate, nextRotationDate);
    assert.equal(oldPrimary?.rotationEnabled, false);
    assert.equal(oldPrimary?.nextRotationDate, undefined);
  });

  it('deletion: a primary with replicas waits in PendingReplicaDeletion; destroying its last replica starts its window', async () => {
    const { key, backing } = newPrimary('565656565656', 'us-east-1');
    await store().createKey(key, backing, []);
    const west = replicaOf(key, 'eu-west-1', [backing]);
    assert.equal(await store().replicateKey(west.replica, west.replicaBackings, []), 'created');
    const now = new Date(key.creationDate.getTime() + DAY_MS);

    const primary = await store().scheduleMultiRegionKeyDeletion(key.accountId, 'us-east-1', key.keyId, 10, now);
    assert.equal(primary?.keyState, 'PendingReplicaDeletion');
    assert.equal(primary?.deletionDate, undefined);
    assert.equal(primary?.pendingWindowDays, 10);
    assert.equal(await store().scheduleMultiRegionKeyDeletion(key.accountId, 'us-east-1', key.keyId, 10, now), undefined, 'only from Enabled or Disabled');

    const replica = await store().scheduleMultiRegionKeyDeletion(key.accountId, 'eu-west-1', key.keyId, 7, now);
    assert.equal(replica?.keyState, 'PendingDeletion');
    assert.deepEqual(replica?.deletionDate, new Date(now.getTime() + 7 * DAY_MS));

    const destroyedAt = new Date(now.getTime() + 7 * DAY_MS);
    assert.equal(await store().destroyKey(keyStoreId(west.replica), destroyedAt), true);
    assert.equal(await store().getKey(key.accountId, 'eu-west-1', key.keyId), undefined);
    const waiting = await store().getKey(key.accountId, 'us-east-1', key.keyId);
    assert.equal(waiting?.keyState, 'PendingDeletion');
    assert.deepEqual(waiting?.deletionDate, new Date(destroyedAt.getTime() + 10 * DAY_MS));
    assert.deepEqual((await store().listMultiRegionKeys(key.keyId)).map((member) => member.region), ['us-east-1']);
  });
}
