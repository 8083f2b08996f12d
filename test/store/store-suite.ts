import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { BackingKeyRecord, GrantRecord, KeyRecord, LabelPlan, SecretRecord, SecretVersionRecord, Store, VersionLabels } from '../../src/store/index.js';

/**
 * The conformance suite every Store backend passes. Each backend's test file calls it with a factory
 * that opens a fresh, empty store.
 */
export function runStoreSuite(name: string, open: () => Promise<{ store: Store; dispose(): Promise<void> }>) {
  describe(`Store conformance: ${name}`, () => {
    let store: Store;
    let dispose: () => Promise<void>;
    before(async () => {
      ({ store, dispose } = await open());
      await store.migrate();
    });
    after(async () => dispose());

    it('migrate can run again without effect', async () => {
      await store.migrate();
      assert.equal(await store.getMeta('absent'), undefined);
    });

    it('putMetaIfAbsent keeps the first value', async () => {
      assert.deepEqual(await store.putMetaIfAbsent('m', Buffer.from('first')), Buffer.from('first'));
      assert.deepEqual(await store.putMetaIfAbsent('m', Buffer.from('second')), Buffer.from('first'));
      assert.deepEqual(await store.getMeta('m'), Buffer.from('first'));
    });

    it('insertAccessKey is insert-or-nothing', async () => {
      const record = { accessKeyId: 'AKIATEST', accountId: '111111111111', principalArn: 'arn:aws:iam::111111111111:root', sealedSecret: randomBytes(40), createdAt: new Date(1_700_000_000_000), expiresAt: undefined };
      assert.equal(await store.insertAccessKey(record), true);
      assert.equal(await store.insertAccessKey({ ...record, accountId: '222222222222' }), false);
      assert.deepEqual(await store.getAccessKey('AKIATEST'), { ...record, status: 'Active', userId: undefined, sessionTokenHash: undefined });
      assert.equal(await store.getAccessKey('AKIAOTHER'), undefined);
    });

    it('createKey stores the key, its first backing key and tags together', async () => {
      const { key, backing } = newKey('111111111111', 'us-east-1');
      await store.createKey(key, backing, [{ TagKey: 'team', TagValue: 'core' }]);
      assert.deepEqual(await store.getKey(key.accountId, key.region, key.keyId), key);
      assert.deepEqual(await store.getBackingKey(key.keyId, backing.backingKeyId), backing);
      assert.deepEqual(await store.listKeyTags(key.keyId), [{ TagKey: 'team', TagValue: 'core' }]);
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

    it('createSecret writes the secret, tags and first version as AWSCURRENT, or returns the holder of the name', async () => {
      const secret = newSecret('111111111111', 'app/one');
      const first = newVersion(secret.arn);
      assert.deepEqual(await store.createSecret(secret, [{ TagKey: 'env', TagValue: 'prod' }], first), { created: true });
      assert.deepEqual((await store.getSecretVersionByStage(secret.arn, 'AWSCURRENT'))?.versionId, first.versionId);
      assert.deepEqual(await store.listSecretTags(secret.arn), [{ TagKey: 'env', TagValue: 'prod' }]);
      const again = await store.createSecret({ ...newSecret('111111111111', 'app/one') }, [], newVersion('other'));
      assert.equal(again.created, false);
      assert.equal(again.created === false && again.existing.arn, secret.arn);
    });

    it('putSecretVersion applies the planner on the labels as they are inside the transaction', async () => {
      const secret = newSecret('111111111111', 'app/two');
      const first = newVersion(secret.arn);
      await store.createSecret(secret, [], first);
      const second = newVersion(secret.arn);
      let seen: VersionLabels[] = [];
      const planner = (labels: VersionLabels[]): LabelPlan => {
        seen = labels;
        return { moves: [{ stage: 'AWSCURRENT', versionId: second.versionId }, { stage: 'AWSPREVIOUS', versionId: first.versionId }], deleteVersions: [] };
      };
      assert.deepEqual(await store.putSecretVersion(second, planner, new Date()), { inserted: true });
      assert.deepEqual(seen.map((v) => [v.versionId, v.stages]).sort(), [[first.versionId, ['AWSCURRENT']], [second.versionId, []]].sort());
      assert.deepEqual((await store.getSecretVersion(secret.arn, first.versionId))?.stages, ['AWSPREVIOUS']);
      assert.deepEqual((await store.getSecretVersion(secret.arn, second.versionId))?.stages, ['AWSCURRENT']);
    });

    it('putSecretVersion with an existing version id changes nothing and returns that version', async () => {
      const secret = newSecret('111111111111', 'app/three');
      const first = newVersion(secret.arn);
      await store.createSecret(secret, [], first);
      const result = await store.putSecretVersion({ ...newVersion(secret.arn), versionId: first.versionId }, () => assert.fail('planner must not run'), new Date());
      assert.equal(result.inserted, false);
      assert.deepEqual(result.inserted === false && result.existing.sealedValue, first.sealedValue);
    });

    it('a planner that throws rolls the new version back', async () => {
      const secret = newSecret('111111111111', 'app/four');
      await store.createSecret(secret, [], newVersion(secret.arn));
      const refused = newVersion(secret.arn);
      await assert.rejects(store.putSecretVersion(refused, () => { throw new Error('refused'); }, new Date()), /refused/);
      assert.equal(await store.getSecretVersion(secret.arn, refused.versionId), undefined);
    });

    it('updateSecretLabels moves and removes labels and prunes versions', async () => {
      const secret = newSecret('111111111111', 'app/five');
      const first = newVersion(secret.arn);
      await store.createSecret(secret, [], first);
      const second = newVersion(secret.arn);
      await store.putSecretVersion(second, () => ({ moves: [{ stage: 'BLUE', versionId: second.versionId }], deleteVersions: [] }), new Date());
      await store.updateSecretLabels(secret.arn, () => ({ moves: [{ stage: 'BLUE', versionId: null }], deleteVersions: [second.versionId] }), new Date());
      assert.deepEqual((await store.listSecretVersions(secret.arn)).map((v) => [v.versionId, v.stages]), [[first.versionId, ['AWSCURRENT']]]);
    });

    it('marks a secret deleted once, restores it, and destroys it with its versions and tags', async () => {
      const secret = newSecret('666666666666', 'app/six');
      await store.createSecret(secret, [{ TagKey: 'a', TagValue: 'b' }], newVersion(secret.arn));
      const now = new Date();
      const due = new Date(now.getTime() + 7 * 86_400_000);
      assert.deepEqual((await store.markSecretDeleted(secret.arn, now, due))?.scheduledDeletionDate, due);
      assert.equal(await store.markSecretDeleted(secret.arn, now, due), undefined);
      assert.deepEqual((await store.listSecretsDueForDeletion(due, 10)).map((s) => s.arn), [secret.arn]);
      assert.equal((await store.restoreSecret(secret.arn))?.deletedDate, undefined);
      assert.deepEqual(await store.listSecretsDueForDeletion(due, 10), []);
      assert.equal(await store.destroySecret(secret.arn), true);
      assert.equal(await store.getSecretByArn(secret.arn), undefined);
      assert.deepEqual(await store.listSecretVersions(secret.arn), []);
      assert.deepEqual(await store.listSecretTags(secret.arn), []);
      assert.equal((await store.createSecret(newSecret('666666666666', 'app/six'), [])).created, true, 'the name is free again');
    });

    it('sets, replaces and removes a secret\'s resource policy, which every read of the secret carries', async () => {
      const secret = newSecret('131313131313', 'app/policy');
      await store.createSecret(secret, []);
      assert.equal((await store.getSecretByArn(secret.arn))?.resourcePolicy, undefined);
      const text = '{"Version":"2012-10-17","Statement":[]}';
      assert.equal((await store.setSecretResourcePolicy(secret.arn, text))?.resourcePolicy, text);
      assert.equal((await store.getSecretByName('131313131313', secret.region, 'app/policy'))?.resourcePolicy, text);
      assert.equal((await store.setSecretResourcePolicy(secret.arn, undefined))?.resourcePolicy, undefined);
      assert.equal((await store.getSecretByArn(secret.arn))?.resourcePolicy, undefined);
      assert.equal(await store.setSecretResourcePolicy('arn:aws:secretsmanager:us-east-1:131313131313:secret:absent-AbCdEf', text), undefined);
    });

    it('rewrapSecretVersions adds a data key before the old ones and applies the patch together', async () => {
      const secret = newSecret('111111111111', 'app/rewrap');
      const first = newVersion(secret.arn);
      await store.createSecret(secret, [], first);
      const dataKey = { kmsKeyArn: 'arn:aws:kms:us-east-1:111111111111:key/11111111-1111-1111-1111-111111111111', encryptedDataKey: randomBytes(93), defaultKey: false };
      const updated = await store.rewrapSecretVersions(secret.arn, [{ versionId: first.versionId, dataKey }, { versionId: randomUUID(), dataKey }], { kmsKeyId: 'alias/new' });
      assert.equal(updated?.kmsKeyId, 'alias/new');
      assert.deepEqual((await store.getSecretVersion(secret.arn, first.versionId))?.dataKeys, [dataKey, ...first.dataKeys]);
    });

    it('listSecrets returns tags, and listVersionStages the labels, for an account and region', async () => {
      const secret = newSecret('777777777777', 'listed');
      const first = newVersion(secret.arn);
      await store.createSecret(secret, [{ TagKey: 'k', TagValue: 'v' }], first);
      await store.createSecret(newSecret('777777777777', 'elsewhere', 'eu-west-1'), []);
      const listed = await store.listSecrets('777777777777', 'us-east-1');
      assert.equal(listed.length, 1);
      assert.deepEqual(listed[0]!.tags, [{ TagKey: 'k', TagValue: 'v' }]);
      assert.deepEqual(await store.listVersionStages([secret.arn]), { [secret.arn]: { [first.versionId]: ['AWSCURRENT'] } });
    });

    it('listSecretPage sorts and pages in the store, leaving out deleted and expired secrets', async () => {
      const account = '121212121212';
      const base = new Date(1_700_000_000_000);
      const names = ['c', 'a', 'd', 'b', 'e'];
      for (const [index, name] of names.entries()) {
        const secret = { ...newSecret(account, name), createdDate: new Date(base.getTime() + index * 1000) };
        await store.createSecret(secret, [{ TagKey: 'n', TagValue: name }], newVersion(secret.arn));
      }
      const deleted = (await store.listSecrets(account, 'us-east-1')).find((secret) => secret.name === 'd')!;
      await store.markSecretDeleted(deleted.arn, base, new Date(base.getTime() + 7 * 86_400_000));
      const page = (sortBy: 'created-date' | 'name', descending: boolean, offset: number, includeDeleted = false) =>
        store.listSecretPage(account, 'us-east-1', { includeDeleted, now: base, sortBy, descending, offset, limit: 2 }).then((items) => items.map((item) => item.name));
      assert.deepEqual(await page('created-date', false, 0), ['c', 'a']);
      assert.deepEqual(await page('created-date', false, 2), ['b', 'e']);
      assert.deepEqual(await page('name', true, 0), ['e', 'c']);
      assert.deepEqual(await page('name', false, 2, true), ['c', 'd']);
      const [first] = await store.listSecretPage(account, 'us-east-1', { includeDeleted: false, now: base, sortBy: 'name', descending: false, offset: 0, limit: 1 });
      assert.deepEqual(first?.tags, [{ TagKey: 'n', TagValue: 'a' }]);
      assert.deepEqual(Object.values(first?.versionStages ?? {}), [['AWSCURRENT']]);
      const afterWindow = new Date(base.getTime() + 8 * 86_400_000);
      const visible = await store.listSecretPage(account, 'us-east-1', { includeDeleted: true, now: afterWindow, sortBy: 'name', descending: false, offset: 0, limit: 10 });
      assert.deepEqual(visible.map((item) => item.name), ['a', 'b', 'c', 'e'], 'a secret past its recovery window is gone');
    });

    it('deleteExpiredAccessKeys removes only keys past their expiry', async () => {
      const base = { accountId: '111111111111', principalArn: 'arn:aws:iam::111111111111:root', sealedSecret: randomBytes(40), createdAt: new Date(1_700_000_000_000) };
      await store.insertAccessKey({ ...base, accessKeyId: 'AKIAEXPIRING', expiresAt: new Date(1_700_000_060_000) });
      await store.insertAccessKey({ ...base, accessKeyId: 'AKIALASTING' });
      assert.equal(await store.deleteExpiredAccessKeys(new Date(1_700_000_059_999)), 0);
      assert.equal(await store.deleteExpiredAccessKeys(new Date(1_700_000_060_000)), 1);
      assert.equal(await store.getAccessKey('AKIAEXPIRING'), undefined);
      assert.ok(await store.getAccessKey('AKIALASTING'));
    });

    it('keeps one unfinished rotation per secret, leased to one claimant at a time', async () => {
      const secret = newSecret('888888888888', 'rotating');
      await store.createSecret(secret, [], newVersion(secret.arn));
      const now = new Date(1_700_000_000_000);
      const run = { secretArn: secret.arn, token: randomUUID(), status: 'running' as const, step: 'createSecret' as const, attempts: 0, startedAt: now, updatedAt: now, nextAttemptAt: now };
      assert.deepEqual(await store.startRotationRun(run), { started: true });
      const second = await store.startRotationRun({ ...run, token: randomUUID() });
      assert.equal(second.started, false);
      assert.equal(second.started === false && second.existing.token, run.token);

      const claims = await Promise.all(['a', 'b', 'c'].map((owner) => store.claimRotationRun(now, owner, 60_000)));
      const winners = claims.filter(Boolean);
      assert.equal(winners.length, 1, 'one claimant wins the lease');
      const owner = winners[0]!.leaseOwner!;
      assert.equal(await store.updateRotationRun(secret.arn, run.token, 'someone-else', { attempts: 9 }), false);
      const retryAt = new Date(now.getTime() + 30_000);
      assert.equal(await store.updateRotationRun(secret.arn, run.token, owner, { attempts: 1, step: 'setSecret', nextAttemptAt: retryAt, lastError: 'boom' }), true);
      assert.equal(await store.claimRotationRun(now, 'a', 60_000), undefined, 'not due before its next attempt');
      const reclaimed = await store.claimRotationRun(retryAt, 'a', 60_000);
      assert.equal(reclaimed?.step, 'setSecret');
      assert.equal(reclaimed?.lastError, 'boom');

      await store.completeRotationRun(secret.arn, run.token, retryAt, { rotationEnabled: true, rotationLambdaArn: 'arn:aws:lambda:us-east-1:888888888888:function:f', lastRotatedDate: retryAt });
      assert.equal(await store.getOpenRotationRun(secret.arn), undefined);
      assert.deepEqual((await store.getSecretByArn(secret.arn))?.lastRotatedDate, retryAt);
      assert.deepEqual(await store.startRotationRun({ ...run, token: randomUUID() }), { started: true }, 'a finished rotation frees the secret');
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
      assert.deepEqual((await store.listFunctions('999999999999', 'us-east-1')).map((f) => f.name), ['rotate']);
      assert.equal(await store.deleteFunction('999999999999', 'us-east-1', 'rotate'), true);
      assert.equal(await store.getFunction('999999999999', 'us-east-1', 'rotate'), undefined);
    });
  });
}

function newBacking(key: KeyRecord, rotationType: 'ON_DEMAND' | 'AUTOMATIC', afterMs: number): BackingKeyRecord {
  return { keyId: key.keyId, backingKeyId: randomUUID(), sealedMaterial: randomBytes(60), createdAt: new Date(key.creationDate.getTime() + afterMs), rotationType };
}

function newKey(accountId: string, region: string): { key: KeyRecord; backing: BackingKeyRecord } {
  const keyId = randomUUID();
  const backingKeyId = randomUUID();
  const creationDate = new Date(1_700_000_000_000);
  return {
    key: {
      keyId,
      accountId,
      region,
      arn: `arn:aws:kms:${region}:${accountId}:key/${keyId}`,
      description: 'test key',
      keyUsage: 'ENCRYPT_DECRYPT',
      keySpec: 'SYMMETRIC_DEFAULT',
      origin: 'AWS_KMS',
      keyManager: 'CUSTOMER',
      keyState: 'Enabled',
      creationDate,
      deletionDate: undefined,
      pendingWindowDays: undefined,
      policy: '{}',
      rotationEnabled: false,
      rotationPeriodDays: undefined,
      nextRotationDate: undefined,
      currentBackingKeyId: backingKeyId,
    },
    backing: { keyId, backingKeyId, sealedMaterial: randomBytes(60), createdAt: creationDate, rotationType: undefined },
  };
}

export function newSecret(accountId: string, name: string, region = 'us-east-1'): SecretRecord {
  const now = new Date(1_700_000_000_000);
  return {
    arn: `arn:aws:secretsmanager:${region}:${accountId}:secret:${name}-${randomBytes(3).toString('hex')}`,
    accountId,
    region,
    name,
    description: undefined,
    kmsKeyId: undefined,
    createdDate: now,
    lastChangedDate: now,
    lastAccessedDate: undefined,
    deletedDate: undefined,
    scheduledDeletionDate: undefined,
    owningService: undefined,
    primaryRegion: region,
  };
}

export function newVersion(secretArn: string): Omit<SecretVersionRecord, 'stages'> {
  return {
    secretArn,
    versionId: randomUUID(),
    dataKeys: [{ kmsKeyArn: 'arn:aws:kms:us-east-1:000000000000:key/00000000-0000-0000-0000-000000000000', encryptedDataKey: randomBytes(93), defaultKey: true }],
    sealedValue: randomBytes(48),
    valueType: 'string',
    createdDate: new Date(1_700_000_000_000),
    lastAccessedDate: undefined,
  };
}
