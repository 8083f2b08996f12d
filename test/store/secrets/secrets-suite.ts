import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { beforeEach, it } from 'node:test';
import type { LabelPlan, ReplicaState, SecretRecord, SecretsRepository, SecretVersionRecord, VersionLabels } from '../../../src/store/index.js';
import { describeRepository, type OpenRepositories } from '../repository-suite.js';
import { newSecret, newVersion } from '../sample-records.js';

/**
 * The conformance suite of SecretsRepository, which every backend passes: secrets, versions and labels;
 * insert-or-get, planners inside the transaction, deletion windows, paging.
 */
export function runSecretsRepositorySuite(backend: string, open: OpenRepositories<SecretsRepository>): void {
  describeRepository<SecretsRepository>('SecretsRepository', backend, open, (opened) => {
    let store: SecretsRepository;
    beforeEach(() => {
      store = opened();
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

    it('listSecretPage gives each secret its own tags in key order and its versions\' labels in label order', async () => {
      const account = '585858585858';
      const tagged = newSecret(account, 'paged/tagged');
      const first = newVersion(tagged.arn);
      // Keys and labels out of order, one beyond the BMP (byte order puts it after 'z'; UTF-16 order would not).
      await store.createSecret(tagged, [{ TagKey: 'zone', TagValue: 'b' }, { TagKey: '\u{1F511}key', TagValue: 'c' }, { TagKey: 'app', TagValue: 'a' }], first);
      const second = newVersion(tagged.arn);
      const moves = [{ stage: 'AWSCURRENT', versionId: second.versionId }, { stage: 'AWSPREVIOUS', versionId: first.versionId }, { stage: 'blue', versionId: second.versionId }, { stage: 'Amber', versionId: second.versionId }];
      await store.putSecretVersion(second, () => ({ moves, deleteVersions: [] }), new Date());
      const bare = newSecret(account, 'paged/bare');
      await store.createSecret(bare, []);
      const items = await store.listSecretPage(account, 'us-east-1', { includeDeleted: false, now: new Date(), sortBy: 'name', descending: false, offset: 0, limit: 10 });
      assert.deepEqual(items.map((item) => [item.name, item.tags, item.versionStages]), [
        ['paged/bare', [], {}],
        ['paged/tagged', [{ TagKey: 'app', TagValue: 'a' }, { TagKey: 'zone', TagValue: 'b' }, { TagKey: '\u{1F511}key', TagValue: 'c' }], { [second.versionId]: ['AWSCURRENT', 'Amber', 'blue'], [first.versionId]: ['AWSPREVIOUS'] }],
      ]);
      assert.deepEqual(Object.keys(items[1]!.versionStages), [second.versionId, first.versionId], 'versions in the order of their first label');
      // A filtered listing reads its chunks without labels: the same secrets, tags and cursors, no labels.
      const unlabelled = await store.listSecretPage(account, 'us-east-1', { includeDeleted: false, now: new Date(), sortBy: 'name', descending: false, offset: 0, limit: 10, labels: false });
      assert.deepEqual(unlabelled.map((item) => [item.name, item.tags, item.versionStages, item.cursor]), items.map((item) => [item.name, item.tags, {}, item.cursor]));
    });
    /** The replica of `primary` in `region` as a sync prepares it, its versions sealed unless `held`. */
    function replicaState(primary: SecretRecord, region: string, versions: Array<Omit<SecretVersionRecord, 'stages'> & { stages: string[] }>, held: string[] = []): ReplicaState {
      const arn = primary.arn.replace(`:${primary.region}:`, `:${region}:`);
      return {
        secret: { ...primary, arn, region, primaryRegion: primary.region, description: 'copied', resourcePolicy: '{"Version":"2012-10-17","Statement":[]}' },
        tags: [{ TagKey: 'team', TagValue: 'a' }],
        versions: versions.map((version) => ({
          versionId: version.versionId,
          createdDate: version.createdDate,
          valueType: version.valueType,
          stages: version.stages,
          hasValue: true,
          sealed: held.includes(version.versionId) ? undefined : { dataKeys: version.dataKeys, sealedValue: version.sealedValue! },
        })),
      };
    }

    it('replicas: listed once for a live primary; a sync applies only while it is the newest, and mirrors the state', async () => {
      const primary = newSecret('919191919191', 'replicated');
      const first = newVersion(primary.arn);
      await store.createSecret(primary, [], first);
      const replicaArn = primary.arn.replace(':us-east-1:', ':eu-west-1:');
      const row = { region: 'eu-west-1', replicaArn, kmsKeyId: 'alias/west', forceOverwrite: false };
      assert.deepEqual(await store.addSecretReplicas(primary.arn, [row]), ['eu-west-1']);
      assert.deepEqual(await store.addSecretReplicas(primary.arn, [row]), [], 'a Region is listed once');
      const [listed] = (await store.listSecretReplicas([primary.arn]))[primary.arn]!;
      assert.deepEqual({ ...listed, lastAccessedDate: undefined }, { primaryArn: primary.arn, ...row, status: 'InProgress', statusMessage: undefined, generation: 0, lastAccessedDate: undefined });
      const older = (await store.beginReplicaSync(primary.arn, 'eu-west-1'))!;
      const newer = (await store.beginReplicaSync(primary.arn, 'eu-west-1'))!;
      assert.equal(newer, older + 1);
      const state = replicaState(primary, 'eu-west-1', [{ ...first, stages: ['AWSCURRENT'] }]);
      assert.equal(await store.applyReplicaSync(primary.arn, 'eu-west-1', older, state, 'taken'), 'stale');
      assert.equal(await store.getSecretByArn(replicaArn), undefined, 'a stale sync writes nothing');
      assert.equal(await store.applyReplicaSync(primary.arn, 'eu-west-1', newer, state, 'taken'), 'applied');
      const replica = await store.getSecretByArn(replicaArn);
      assert.equal(replica?.primaryRegion, 'us-east-1');
      assert.equal(replica?.region, 'eu-west-1');
      assert.equal(replica?.description, 'copied');
      assert.equal(replica?.resourcePolicy, state.secret.resourcePolicy);
      assert.deepEqual(await store.listSecretTags(replicaArn), [{ TagKey: 'team', TagValue: 'a' }]);
      assert.deepEqual((await store.getSecretVersionByStage(replicaArn, 'AWSCURRENT'))?.sealedValue, first.sealedValue);
      assert.equal((await store.listSecretReplicas([primary.arn]))[primary.arn]![0]!.status, 'InSync');
      assert.equal(await store.setReplicaKmsKey(primary.arn, 'eu-west-1', 'alias/other'), true);
      assert.equal(await store.setReplicaKmsKey(primary.arn, 'ap-south-1', 'alias/other'), false, 'no such Region');
      assert.equal((await store.listSecretReplicas([primary.arn]))[primary.arn]![0]!.kmsKeyId, 'alias/other');

      // The next sync keeps held versions, adds new ones, moves labels and drops versions the primary dropped.
      const second = newVersion(primary.arn);
      const next = (await store.beginReplicaSync(primary.arn, 'eu-west-1'))!;
      const moved = replicaState(primary, 'eu-west-1', [{ ...first, stages: ['AWSPREVIOUS'] }, { ...second, stages: ['AWSCURRENT'] }], [first.versionId]);
      assert.equal(await store.applyReplicaSync(primary.arn, 'eu-west-1', next, moved, 'taken'), 'applied');
      assert.deepEqual((await store.listSecretVersions(replicaArn)).map((v) => [v.versionId, v.stages]).sort(), [[first.versionId, ['AWSPREVIOUS']], [second.versionId, ['AWSCURRENT']]].sort());
      assert.equal((await store.getSecretByArn(replicaArn))?.kmsKeyId, 'alias/other', 'a sync sets the key the row names');
      const last = (await store.beginReplicaSync(primary.arn, 'eu-west-1'))!;
      assert.equal(await store.applyReplicaSync(primary.arn, 'eu-west-1', last, replicaState(primary, 'eu-west-1', [{ ...second, stages: ['AWSCURRENT'] }], [second.versionId]), 'taken'), 'applied');
      assert.deepEqual((await store.listSecretVersions(replicaArn)).map((v) => v.versionId), [second.versionId]);
      // A state that assumes a value the replica lacks is refused whole.
      const third = newVersion(primary.arn);
      const assumed = (await store.beginReplicaSync(primary.arn, 'eu-west-1'))!;
      assert.equal(await store.applyReplicaSync(primary.arn, 'eu-west-1', assumed, replicaState(primary, 'eu-west-1', [{ ...third, stages: ['AWSCURRENT'] }], [third.versionId]), 'taken'), 'stale');
      assert.deepEqual((await store.listSecretVersions(replicaArn)).map((v) => v.versionId), [second.versionId]);
    });

    it('replicas: a name held by another secret fails the sync unless the Region forces overwrite; failures are listed to sync', async () => {
      const primary = newSecret('929292929292', 'contested');
      const first = newVersion(primary.arn);
      await store.createSecret(primary, [], first);
      const other = newSecret('929292929292', 'contested', 'eu-west-1');
      await store.createSecret(other, []);
      const replicaArn = primary.arn.replace(':us-east-1:', ':eu-west-1:');
      await store.addSecretReplicas(primary.arn, [{ region: 'eu-west-1', replicaArn, forceOverwrite: false }]);
      const generation = (await store.beginReplicaSync(primary.arn, 'eu-west-1'))!;
      const state = replicaState(primary, 'eu-west-1', [{ ...first, stages: ['AWSCURRENT'] }]);
      assert.equal(await store.applyReplicaSync(primary.arn, 'eu-west-1', generation, state, 'name taken'), 'name-taken');
      assert.equal((await store.getSecretByName('929292929292', 'eu-west-1', 'contested'))?.arn, other.arn);
      const failed = (await store.listSecretReplicas([primary.arn]))[primary.arn]![0]!;
      assert.deepEqual([failed.status, failed.statusMessage], ['Failed', 'name taken']);
      assert.ok((await store.listSecretReplicasToSync(1000)).some((row) => row.primaryArn === primary.arn));
      await store.failReplicaSync(primary.arn, 'eu-west-1', generation - 1, 'old');
      assert.equal((await store.listSecretReplicas([primary.arn]))[primary.arn]![0]!.statusMessage, 'name taken', 'an older sync no longer reports');

      await store.removeSecretReplicas(primary.arn, ['eu-west-1']);
      assert.equal((await store.getSecretByArn(other.arn))?.arn, other.arn, 'removing a Region never deletes a secret that is not its replica');
      await store.addSecretReplicas(primary.arn, [{ region: 'eu-west-1', replicaArn, forceOverwrite: true }]);
      const forced = (await store.beginReplicaSync(primary.arn, 'eu-west-1'))!;
      assert.equal(await store.applyReplicaSync(primary.arn, 'eu-west-1', forced, state, 'name taken'), 'applied');
      assert.equal(await store.getSecretByArn(other.arn), undefined);
      assert.equal((await store.getSecretByName('929292929292', 'eu-west-1', 'contested'))?.arn, replicaArn);
      assert.ok(!(await store.listSecretReplicasToSync(1000)).some((row) => row.primaryArn === primary.arn));
    });

    it('replicas: promotion makes a standalone secret and unlists it; removal destroys a replica; a deleted primary takes none', async () => {
      const primary = newSecret('939393939393', 'promoted');
      const first = newVersion(primary.arn);
      await store.createSecret(primary, [], first);
      const regions = ['eu-west-1', 'ap-south-1'];
      await store.addSecretReplicas(primary.arn, regions.map((region) => ({ region, replicaArn: primary.arn.replace(':us-east-1:', `:${region}:`), forceOverwrite: false })));
      for (const region of regions) {
        const generation = (await store.beginReplicaSync(primary.arn, region))!;
        await store.applyReplicaSync(primary.arn, region, generation, replicaState(primary, region, [{ ...first, stages: ['AWSCURRENT'] }]), 'taken');
      }
      const [west, south] = regions.map((region) => primary.arn.replace(':us-east-1:', `:${region}:`)) as [string, string];
      assert.equal(await store.promoteReplicaSecret(primary.arn, primary.arn), undefined, 'a primary is no replica');
      assert.equal((await store.promoteReplicaSecret(west, primary.arn))?.primaryRegion, 'eu-west-1');
      assert.equal(await store.promoteReplicaSecret(west, primary.arn), undefined, 'once');
      assert.deepEqual((await store.listSecretReplicas([primary.arn]))[primary.arn]!.map((row) => row.region), ['ap-south-1']);
      assert.equal(await store.markSecretDeleted(primary.arn, new Date(), new Date(Date.now() + 7 * 86_400_000)), undefined, 'not while it has replicas');
      assert.equal(await store.destroySecret(primary.arn), false, 'nor destroyed while it has replicas');
      assert.equal((await store.getSecretByArn(primary.arn))?.arn, primary.arn);
      assert.equal((await store.getSecretVersionByStage(primary.arn, 'AWSCURRENT'))?.versionId, first.versionId, 'its labels stay');
      await store.removeSecretReplicas(primary.arn, ['ap-south-1']);
      assert.equal(await store.getSecretByArn(south), undefined);
      assert.deepEqual(await store.listSecretVersions(south), []);
      assert.equal((await store.getSecretByArn(west))?.primaryRegion, 'eu-west-1', 'the promoted secret stays');
      assert.ok(await store.markSecretDeleted(primary.arn, new Date(), new Date(Date.now() + 7 * 86_400_000)), 'no replicas left');
      assert.deepEqual(await store.addSecretReplicas(primary.arn, [{ region: 'ca-central-1', replicaArn: primary.arn.replace(':us-east-1:', ':ca-central-1:'), forceOverwrite: false }]), []);
    });
  });
}
