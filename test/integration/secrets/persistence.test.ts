import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type KeyMetadata } from '@aws-sdk/client-kms';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  UpdateSecretVersionStageCommand,
  type DescribeSecretCommandOutput,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { createKey } from '../../helpers/kms.js';
import { secretsClient, uniqueSecretName } from '../../helpers/secrets.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

/**
 * Secrets survive a restart on the same data dir, and the database files never hold a secret value in
 * the clear: not as text, not base64, not hex.
 */
describe('Secrets Manager state across a server restart', () => {
  const marker = `coffer-marker-${randomBytes(12).toString('hex')}`;
  const binaryMarker = Buffer.concat([Buffer.from('bin-marker:'), randomBytes(24)]);
  let original: TestServer;
  let restarted: TestServer;
  let sm: SecretsManagerClient;

  let key: KeyMetadata;
  const names = { plain: uniqueSecretName('persist/plain'), binary: uniqueSecretName('persist/binary'), cmk: uniqueSecretName('persist/cmk'), deleted: uniqueSecretName('persist/deleted') };
  let arns: Record<keyof typeof names, string>;
  let firstVersion: string;
  let secondVersion: string;
  let pendingVersion: string;
  let describedBefore: DescribeSecretCommandOutput;
  let deletionDate: Date;

  before(async () => {
    original = await startTestServer();
    const first = secretsClient(original);
    key = await createKey(original.kms(), { Description: 'persisted secrets key' });

    const plain = await first.send(
      new CreateSecretCommand({ Name: names.plain, Description: 'kept across restarts', SecretString: `${marker}-v1`, Tags: [{ Key: 'owner', Value: 'ops' }] }),
    );
    firstVersion = plain.VersionId!;
    secondVersion = (await first.send(new PutSecretValueCommand({ SecretId: names.plain, SecretString: `${marker}-v2` }))).VersionId!;
    pendingVersion = (await first.send(new PutSecretValueCommand({ SecretId: names.plain, SecretString: `${marker}-v3`, VersionStages: ['AWSPENDING'] }))).VersionId!;
    await first.send(new UpdateSecretVersionStageCommand({ SecretId: names.plain, VersionStage: 'CUSTOM', MoveToVersionId: firstVersion }));

    const binary = await first.send(new CreateSecretCommand({ Name: names.binary, SecretBinary: binaryMarker }));
    const cmk = await first.send(new CreateSecretCommand({ Name: names.cmk, SecretString: `${marker}-cmk`, KmsKeyId: key.KeyId }));
    const deleted = await first.send(new CreateSecretCommand({ Name: names.deleted, SecretString: `${marker}-deleted` }));
    deletionDate = (await first.send(new DeleteSecretCommand({ SecretId: names.deleted, RecoveryWindowInDays: 10 }))).DeletionDate!;
    arns = { plain: plain.ARN!, binary: binary.ARN!, cmk: cmk.ARN!, deleted: deleted.ARN! };
    describedBefore = await first.send(new DescribeSecretCommand({ SecretId: names.plain }));

    await original.stop();
    restarted = await startTestServer({ dataDir: original.dataDir });
    sm = secretsClient(restarted, { credentials: original.admin });
  });

  after(async () => {
    await restarted?.cleanup();
    await original?.cleanup();
  });

  async function value(secretId: string, selector: { VersionId?: string; VersionStage?: string } = {}) {
    return sm.send(new GetSecretValueCommand({ SecretId: secretId, ...selector }));
  }

  it('reads every version and staging label back after the restart', async () => {
    assert.equal((await value(names.plain)).SecretString, `${marker}-v2`);
    assert.equal((await value(names.plain, { VersionStage: 'AWSPREVIOUS' })).SecretString, `${marker}-v1`);
    assert.equal((await value(names.plain, { VersionStage: 'AWSPENDING' })).SecretString, `${marker}-v3`);
    assert.equal((await value(names.plain, { VersionStage: 'CUSTOM' })).VersionId, firstVersion);
    assert.equal((await value(arns.plain, { VersionId: secondVersion })).SecretString, `${marker}-v2`);
    const { Versions } = await sm.send(new ListSecretVersionIdsCommand({ SecretId: names.plain, IncludeDeprecated: true }));
    const stages = Object.fromEntries(Versions!.map((version) => [version.VersionId!, [...version.VersionStages!].sort()]));
    assert.deepEqual(stages, { [firstVersion]: ['AWSPREVIOUS', 'CUSTOM'], [secondVersion]: ['AWSCURRENT'], [pendingVersion]: ['AWSPENDING'] });
  });

  it('keeps metadata: ARN, description, tags and dates', async () => {
    const described = await sm.send(new DescribeSecretCommand({ SecretId: names.plain }));
    assert.equal(described.ARN, arns.plain);
    assert.equal(described.Description, 'kept across restarts');
    assert.deepEqual(described.Tags, [{ Key: 'owner', Value: 'ops' }]);
    assert.equal(described.CreatedDate?.getTime(), describedBefore.CreatedDate?.getTime());
    assert.equal(described.LastChangedDate?.getTime(), describedBefore.LastChangedDate?.getTime());
    assert.deepEqual(described.VersionIdsToStages, describedBefore.VersionIdsToStages);
  });

  it('reads binary secrets and secrets sealed with a customer key', async () => {
    assert.equal(Buffer.from((await value(names.binary)).SecretBinary!).toString('hex'), binaryMarker.toString('hex'));
    assert.equal((await value(names.cmk)).SecretString, `${marker}-cmk`);
  });

  it('keeps a scheduled deletion with its date', async () => {
    const listed = await sm.send(new ListSecretsCommand({ IncludePlannedDeletion: true, Filters: [{ Key: 'name', Values: [names.deleted] }] }));
    assert.deepEqual(listed.SecretList?.map((secret) => secret.ARN), [arns.deleted]);
    const plainList = await sm.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [names.deleted] }] }));
    assert.deepEqual(plainList.SecretList, []);
    const described = await sm.send(new DescribeSecretCommand({ SecretId: names.deleted }));
    assert.ok(described.DeletedDate);
    const deletedAgain = await sm.send(new DeleteSecretCommand({ SecretId: names.deleted, ForceDeleteWithoutRecovery: true }));
    assert.ok(deletedAgain.DeletionDate!.getTime() < deletionDate.getTime());
  });

  it('takes new versions after the restart', async () => {
    await sm.send(new PutSecretValueCommand({ SecretId: names.plain, SecretString: `${marker}-v4` }));
    assert.equal((await value(names.plain)).SecretString, `${marker}-v4`);
    assert.equal((await value(names.plain, { VersionStage: 'AWSPREVIOUS' })).SecretString, `${marker}-v2`);
  });

  it('never writes a secret value to the database files in the clear, as text, base64 or hex', async () => {
    await restarted.stop();
    const files = ['coffer.db', 'coffer.db-wal'].map((file) => join(original.dataDir, file)).filter((path) => existsSync(path));
    assert.ok(files.includes(join(original.dataDir, 'coffer.db')));
    const bytes = Buffer.concat(files.map((path) => readFileSync(path)));
    assert.ok(bytes.length > 0);
    // Sanity check that the search works: a secret's name is stored in the clear.
    assert.ok(bytes.includes(Buffer.from(names.plain)), 'the secret name is in the database');

    const needles: Array<[string, Buffer]> = [];
    for (const suffix of ['-v1', '-v2', '-v3', '-v4', '-cmk', '-deleted', '']) {
      const text = Buffer.from(`${marker}${suffix}`);
      needles.push([`text ${suffix}`, text], [`base64 ${suffix}`, Buffer.from(text.toString('base64'))], [`hex ${suffix}`, Buffer.from(text.toString('hex'))]);
    }
    const binaryCore = binaryMarker.subarray(11);
    needles.push(
      ['binary', binaryCore],
      ['binary base64', Buffer.from(binaryMarker.toString('base64'))],
      ['binary hex', Buffer.from(binaryCore.toString('hex'))],
      ['binary hex upper', Buffer.from(binaryCore.toString('hex').toUpperCase())],
    );
    for (const [label, needle] of needles) assert.ok(!bytes.includes(needle), `${label} found in the database files`);
  });
});
