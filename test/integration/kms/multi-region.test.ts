import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  CreateGrantCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  DisableKeyRotationCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GetKeyRotationStatusCommand,
  ListAliasesCommand,
  ListKeyRotationsCommand,
  ListKeysCommand,
  ListResourceTagsCommand,
  ReEncryptCommand,
  ReplicateKeyCommand,
  RetireGrantCommand,
  RotateKeyOnDemandCommand,
  ScheduleKeyDeletionCommand,
  UpdatePrimaryRegionCommand,
  type KeyMetadata,
  type KMSClient,
} from '@aws-sdk/client-kms';
import { shellOk } from '../../helpers/aws-cli.js';
import { ManualClock } from '../../helpers/clock.js';
import { createKey, rejectsWith, roundSecondNow, uniqueAliasName } from '../../helpers/kms.js';
import { createUser } from '../../helpers/principals.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

let server: TestServer;
let clock: ManualClock;
/** One deployment, two Regions: the same credentials signing for us-east-1 and for eu-west-1. */
let east: KMSClient;
let west: KMSClient;
let workDir: string;

before(async () => {
  clock = new ManualClock(roundSecondNow());
  server = await startTestServer({ clock });
  east = server.kms({ region: 'us-east-1' });
  west = server.kms({ region: 'eu-west-1' });
  workDir = mkdtempSync(join(tmpdir(), 'coffer-mrk-cli-'));
});
after(async () => {
  rmSync(workDir, { recursive: true, force: true });
  await server.cleanup();
});

async function createMrk(client: KMSClient = east): Promise<KeyMetadata> {
  return createKey(client, { MultiRegion: true, Description: 'primary' });
}

async function replicate(keyId: string, region = 'eu-west-1', client: KMSClient = east) {
  return client.send(new ReplicateKeyCommand({ KeyId: keyId, ReplicaRegion: region }));
}

async function describe_(client: KMSClient, keyId: string): Promise<KeyMetadata> {
  return (await client.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!;
}

async function encrypt(client: KMSClient, keyId: string, text: string): Promise<Uint8Array> {
  return (await client.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from(text), EncryptionContext: { purpose: 'mrk' } }))).CiphertextBlob!;
}

async function decrypt(client: KMSClient, blob: Uint8Array, keyId?: string): Promise<string> {
  const { Plaintext, KeyId } = await client.send(new DecryptCommand({ CiphertextBlob: blob, KeyId: keyId, EncryptionContext: { purpose: 'mrk' } }));
  assert.ok(KeyId);
  return Buffer.from(Plaintext!).toString();
}

function arnIn(region: string, key: KeyMetadata): string {
  return `arn:aws:kms:${region}:${key.AWSAccountId}:key/${key.KeyId}`;
}

describe('CreateKey MultiRegion', () => {
  it('makes a primary key with an mrk- id and a PRIMARY configuration without replicas', async () => {
    const key = await createMrk();
    assert.match(key.KeyId!, /^mrk-[0-9a-f]{32}$/);
    assert.equal(key.Arn, arnIn('us-east-1', key));
    assert.equal(key.MultiRegion, true);
    assert.deepEqual(key.MultiRegionConfiguration, {
      MultiRegionKeyType: 'PRIMARY',
      PrimaryKey: { Arn: key.Arn, Region: 'us-east-1' },
      ReplicaKeys: [],
    });
    const single = await createKey(east);
    assert.equal(single.MultiRegion, false);
    assert.equal(single.MultiRegionConfiguration, undefined);
  });
});

describe('ReplicateKey', () => {
  it('creates the replica in the other Region with the same key id and its own policy, description and tags', async () => {
    const key = await createMrk();
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Sid: 'root', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${key.AWSAccountId}:root` }, Action: 'kms:*', Resource: '*' }],
    });
    const replicated = await east.send(
      new ReplicateKeyCommand({ KeyId: key.KeyId, ReplicaRegion: 'eu-west-1', Description: 'replica', Policy: policy, Tags: [{ TagKey: 'team', TagValue: 'west' }] }),
    );
    const replica = replicated.ReplicaKeyMetadata!;
    assert.equal(replica.KeyId, key.KeyId);
    assert.equal(replica.Arn, arnIn('eu-west-1', key));
    assert.equal(replica.Description, 'replica');
    assert.equal(replica.KeyState, 'Enabled');
    assert.equal(replica.KeySpec, 'SYMMETRIC_DEFAULT');
    assert.equal(replica.MultiRegion, true);
    assert.equal(replica.MultiRegionConfiguration?.MultiRegionKeyType, 'REPLICA');
    assert.deepEqual(replica.MultiRegionConfiguration?.PrimaryKey, { Arn: key.Arn, Region: 'us-east-1' });
    assert.deepEqual(replica.MultiRegionConfiguration?.ReplicaKeys, [{ Arn: replica.Arn, Region: 'eu-west-1' }]);
    assert.equal(replicated.ReplicaPolicy, policy);
    assert.deepEqual(replicated.ReplicaTags, [{ TagKey: 'team', TagValue: 'west' }]);

    // Tags, descriptions and aliases are each member's own.
    assert.deepEqual((await west.send(new ListResourceTagsCommand({ KeyId: key.KeyId }))).Tags, [{ TagKey: 'team', TagValue: 'west' }]);
    assert.deepEqual((await east.send(new ListResourceTagsCommand({ KeyId: key.KeyId }))).Tags, []);
    assert.equal((await describe_(east, key.KeyId!)).Description, 'primary');
    const aliasName = uniqueAliasName('mrk');
    await west.send(new CreateAliasCommand({ AliasName: aliasName, TargetKeyId: key.KeyId }));
    const westAliases = (await west.send(new ListAliasesCommand({ KeyId: key.KeyId }))).Aliases!;
    assert.deepEqual(westAliases.map((alias) => [alias.AliasName, alias.TargetKeyId]), [[aliasName, key.KeyId]]);
    assert.deepEqual((await east.send(new ListAliasesCommand({ KeyId: key.KeyId }))).Aliases, []);
    assert.equal(await decrypt(west, await encrypt(west, aliasName, 'by alias')), 'by alias');
  });

  it('the replica gets the default key policy when none is given; DescribeKey on either member lists them all', async () => {
    const key = await createMrk();
    const first = await replicate(key.KeyId!);
    assert.match(first.ReplicaPolicy!, /"Enable IAM User Permissions"/);
    await replicate(key.KeyId!, 'ap-southeast-2');
    const expected = {
      PrimaryKey: { Arn: key.Arn, Region: 'us-east-1' },
      ReplicaKeys: [
        { Arn: arnIn('ap-southeast-2', key), Region: 'ap-southeast-2' },
        { Arn: arnIn('eu-west-1', key), Region: 'eu-west-1' },
      ],
    };
    assert.deepEqual(await describe_(east, key.KeyId!).then((m) => m.MultiRegionConfiguration), { MultiRegionKeyType: 'PRIMARY', ...expected });
    assert.deepEqual(await describe_(west, key.KeyId!).then((m) => m.MultiRegionConfiguration), { MultiRegionKeyType: 'REPLICA', ...expected });
    // Each Region lists its own member.
    const westKeys = (await west.send(new ListKeysCommand({}))).Keys!;
    assert.ok(westKeys.some((listed) => listed.KeyArn === arnIn('eu-west-1', key)));
    assert.ok(!westKeys.some((listed) => listed.KeyArn === key.Arn));
  });

  it('refuses a Region that already holds a member, single-Region keys, replicas and bad Region names', async () => {
    const key = await createMrk();
    await replicate(key.KeyId!);
    await rejectsWith(replicate(key.KeyId!), 'AlreadyExistsException');
    await rejectsWith(replicate(key.KeyId!, 'us-east-1'), 'AlreadyExistsException');
    const single = await createKey(east);
    await rejectsWith(replicate(single.KeyId!), 'UnsupportedOperationException');
    // The replica in eu-west-1 is not a primary.
    await rejectsWith(replicate(key.KeyId!, 'ap-south-1', west), 'UnsupportedOperationException');
    await rejectsWith(replicate(key.KeyId!, 'EU_WEST'), 'ValidationException');
    // Nothing was created by the refused calls.
    assert.equal((await describe_(east, key.KeyId!)).MultiRegionConfiguration?.ReplicaKeys?.length, 1);
  });

  it('refuses to replicate a primary pending deletion (KMSInvalidStateException)', async () => {
    const key = await createMrk();
    await east.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: 7 }));
    await rejectsWith(replicate(key.KeyId!), 'KMSInvalidStateException');
  });

  it('needs kms:ReplicateKey on the primary and kms:CreateKey in the replica Region (aws:RequestedRegion is the replica\'s)', async () => {
    const key = await createMrk();
    const onlyReplicate = await createUser(server, server.admin, 'mrk-only-replicate', {
      policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:ReplicateKey', Resource: '*' }] },
    });
    const asOnlyReplicate = server.kms({ region: 'us-east-1', credentials: onlyReplicate.keys });
    const denied = await rejectsWith(replicate(key.KeyId!, 'eu-west-1', asOnlyReplicate), 'AccessDeniedException');
    assert.match(denied.message, /kms:CreateKey/);

    const sydneyOnly = await createUser(server, server.admin, 'mrk-sydney-only', {
      policy: {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: 'kms:ReplicateKey', Resource: '*' },
          { Effect: 'Allow', Action: 'kms:CreateKey', Resource: '*', Condition: { StringEquals: { 'aws:RequestedRegion': 'ap-southeast-2' } } },
        ],
      },
    });
    const asSydneyOnly = server.kms({ region: 'us-east-1', credentials: sydneyOnly.keys });
    await rejectsWith(replicate(key.KeyId!, 'eu-west-1', asSydneyOnly), 'AccessDeniedException');
    const made = await replicate(key.KeyId!, 'ap-southeast-2', asSydneyOnly);
    assert.equal(made.ReplicaKeyMetadata?.Arn, arnIn('ap-southeast-2', key));

    // Without kms:ReplicateKey the primary's key policy (delegating to IAM) refuses.
    const onlyCreate = await createUser(server, server.admin, 'mrk-only-create', {
      policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:CreateKey', Resource: '*' }] },
    });
    const error = await rejectsWith(replicate(key.KeyId!, 'eu-west-1', server.kms({ credentials: onlyCreate.keys })), 'AccessDeniedException');
    assert.match(error.message, /kms:ReplicateKey/);
    assert.equal((await describe_(east, key.KeyId!)).MultiRegionConfiguration?.ReplicaKeys?.length, 1);
  });
});

describe('condition keys of multi-Region keys', () => {
  it('a Deny on kms:MultiRegion, kms:ReplicaRegion, kms:PrimaryRegion or kms:MultiRegionKeyType applies', async () => {
    const noMrk = await createUser(server, server.admin, 'mrk-no-multi-region', {
      policy: {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: 'kms:*', Resource: '*' },
          { Effect: 'Deny', Action: 'kms:CreateKey', Resource: '*', Condition: { Bool: { 'kms:MultiRegion': 'true' } } },
        ],
      },
    });
    const asNoMrk = server.kms({ region: 'us-east-1', credentials: noMrk.keys });
    await rejectsWith(asNoMrk.send(new CreateKeyCommand({ MultiRegion: true })), 'AccessDeniedException');
    await createKey(asNoMrk, { MultiRegion: false });
    // A replica is a multi-Region key created in its Region: the same Deny refuses ReplicateKey.
    const mrk = await createMrk();
    await rejectsWith(replicate(mrk.KeyId!, 'eu-west-1', asNoMrk), 'AccessDeniedException');

    const user = await createUser(server, server.admin, 'mrk-conditions', {
      policy: {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: 'kms:*', Resource: '*' },
          { Effect: 'Deny', Action: 'kms:ReplicateKey', Resource: '*', Condition: { StringEquals: { 'kms:ReplicaRegion': 'ap-south-1' } } },
          { Effect: 'Deny', Action: 'kms:UpdatePrimaryRegion', Resource: '*', Condition: { StringEquals: { 'kms:PrimaryRegion': 'ap-southeast-2' } } },
          { Effect: 'Deny', Action: 'kms:Encrypt', Resource: '*', Condition: { StringEquals: { 'kms:MultiRegionKeyType': 'REPLICA' } } },
        ],
      },
    });
    const asUserEast = server.kms({ region: 'us-east-1', credentials: user.keys });
    const asUserWest = server.kms({ region: 'eu-west-1', credentials: user.keys });

    const key = await createMrk();
    await rejectsWith(replicate(key.KeyId!, 'ap-south-1', asUserEast), 'AccessDeniedException');
    await replicate(key.KeyId!, 'eu-west-1', asUserEast);
    await replicate(key.KeyId!, 'ap-southeast-2', asUserEast);
    await rejectsWith(asUserEast.send(new UpdatePrimaryRegionCommand({ KeyId: key.KeyId, PrimaryRegion: 'ap-southeast-2' })), 'AccessDeniedException');
    await encrypt(asUserEast, key.KeyId!, 'the primary is allowed');
    await rejectsWith(encrypt(asUserWest, key.KeyId!, 'the replica is not'), 'AccessDeniedException');
    await asUserEast.send(new UpdatePrimaryRegionCommand({ KeyId: key.KeyId, PrimaryRegion: 'eu-west-1' }));
    await encrypt(asUserWest, key.KeyId!, 'now the primary');
  });
});

describe('cryptography across Regions', () => {
  it('a ciphertext from one Region decrypts in the other, with and without KeyId, both ways', async () => {
    const key = await createMrk();
    // Made before the replica exists: the replica gets every backing key.
    const early = await encrypt(east, key.KeyId!, 'before replication');
    await replicate(key.KeyId!);
    assert.equal(await decrypt(west, early), 'before replication');
    assert.equal(await decrypt(west, early, key.KeyId), 'before replication');
    assert.equal(await decrypt(west, early, arnIn('eu-west-1', key)), 'before replication');
    const fromWest = await encrypt(west, key.KeyId!, 'made in eu-west-1');
    assert.equal(await decrypt(east, fromWest), 'made in eu-west-1');
    assert.equal(await decrypt(east, fromWest, key.Arn), 'made in eu-west-1');
    // Decrypt reports the member of the caller's Region.
    const { KeyId } = await west.send(new DecryptCommand({ CiphertextBlob: early, EncryptionContext: { purpose: 'mrk' } }));
    assert.equal(KeyId, arnIn('eu-west-1', key));
    // ReEncrypt in the replica's Region, from the blob's key to itself.
    const reEncrypted = await west.send(
      new ReEncryptCommand({ CiphertextBlob: early, SourceEncryptionContext: { purpose: 'mrk' }, DestinationKeyId: key.KeyId, DestinationEncryptionContext: { purpose: 'mrk' } }),
    );
    assert.equal(await decrypt(east, reEncrypted.CiphertextBlob!), 'before replication');
  });

  it('a Region without a member does not find the key; another Region\'s ARN is not a key here', async () => {
    const key = await createMrk();
    const blob = await encrypt(east, key.KeyId!, 'only east');
    const south = server.kms({ region: 'ap-south-1' });
    await rejectsWith(south.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: { purpose: 'mrk' } })), 'NotFoundException');
    await rejectsWith(south.send(new DecryptCommand({ CiphertextBlob: blob, KeyId: key.KeyId, EncryptionContext: { purpose: 'mrk' } })), 'NotFoundException');
    await rejectsWith(west.send(new DecryptCommand({ CiphertextBlob: blob, KeyId: key.Arn, EncryptionContext: { purpose: 'mrk' } })), 'NotFoundException');
  });

  it('each member has its own key state: a disabled replica refuses, the primary still works', async () => {
    const key = await createMrk();
    await replicate(key.KeyId!);
    const blob = await encrypt(east, key.KeyId!, 'state');
    await west.send(new DisableKeyCommand({ KeyId: key.KeyId }));
    await rejectsWith(west.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: { purpose: 'mrk' } })), 'DisabledException');
    assert.equal(await decrypt(east, blob), 'state');
  });

  it('grants are per member: a grant on the primary gives nothing on the replica', async () => {
    const key = await createMrk();
    await replicate(key.KeyId!);
    const grantee = await createUser(server, server.admin, 'mrk-grantee');
    const { GrantId, GrantToken } = await east.send(new CreateGrantCommand({ KeyId: key.KeyId, GranteePrincipal: grantee.arn, Operations: ['Encrypt', 'Decrypt'] }));
    assert.ok(GrantId && GrantToken);
    const asGranteeEast = server.kms({ region: 'us-east-1', credentials: grantee.keys });
    const asGranteeWest = server.kms({ region: 'eu-west-1', credentials: grantee.keys });
    const blob = await encrypt(asGranteeEast, key.Arn!, 'granted');
    assert.equal(await decrypt(asGranteeEast, blob), 'granted');
    await rejectsWith(asGranteeWest.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: { purpose: 'mrk' } })), 'AccessDeniedException');
    // The token names the grant's key: retiring by token in us-east-1 works.
    await east.send(new RetireGrantCommand({ GrantToken }));
    await rejectsWith(asGranteeEast.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: { purpose: 'mrk' } })), 'AccessDeniedException');
  });
});

describe('rotation of a multi-Region key', () => {
  it('on-demand rotation of the primary reaches the replica; a ciphertext made after it decrypts there', async () => {
    const key = await createMrk();
    await replicate(key.KeyId!);
    const before = await encrypt(east, key.KeyId!, 'old material');
    await east.send(new RotateKeyOnDemandCommand({ KeyId: key.KeyId }));
    const after = await encrypt(east, key.KeyId!, 'new material');
    assert.notDeepEqual(Buffer.from(after).subarray(17, 33), Buffer.from(before).subarray(17, 33), 'the new ciphertext names the new backing key');
    assert.equal(await decrypt(west, after), 'new material');
    assert.equal(await decrypt(west, before), 'old material');
    // The replica encrypts with the new material too.
    const westAfter = await encrypt(west, key.KeyId!, 'west new');
    assert.deepEqual(Buffer.from(westAfter).subarray(17, 33), Buffer.from(after).subarray(17, 33));
    assert.equal((await west.send(new ListKeyRotationsCommand({ KeyId: key.KeyId }))).Rotations?.length, 1);
  });

  it('scheduled rotation of the primary (maintenance) reaches the replica in the same write', async () => {
    const key = await createMrk();
    await replicate(key.KeyId!);
    await east.send(new EnableKeyRotationCommand({ KeyId: key.KeyId, RotationPeriodInDays: 90 }));
    const status = await west.send(new GetKeyRotationStatusCommand({ KeyId: key.KeyId }));
    assert.equal(status.KeyRotationEnabled, true, 'a replica reports the primary\'s rotation');
    assert.equal(status.RotationPeriodInDays, 90);
    clock.advanceDays(91);
    await server.server.coffer.runMaintenance();
    const rotations = (await west.send(new ListKeyRotationsCommand({ KeyId: key.KeyId }))).Rotations!;
    assert.deepEqual(rotations.map((rotation) => rotation.RotationType), ['AUTOMATIC']);
    assert.equal(await decrypt(west, await encrypt(east, key.KeyId!, 'after schedule')), 'after schedule');
    await east.send(new DisableKeyRotationCommand({ KeyId: key.KeyId }));
  });

  it('replicas refuse EnableKeyRotation, DisableKeyRotation and RotateKeyOnDemand', async () => {
    const key = await createMrk();
    await replicate(key.KeyId!);
    await rejectsWith(west.send(new EnableKeyRotationCommand({ KeyId: key.KeyId })), 'UnsupportedOperationException');
    await rejectsWith(west.send(new DisableKeyRotationCommand({ KeyId: key.KeyId })), 'UnsupportedOperationException');
    await rejectsWith(west.send(new RotateKeyOnDemandCommand({ KeyId: key.KeyId })), 'UnsupportedOperationException');
    assert.equal((await west.send(new ListKeyRotationsCommand({ KeyId: key.KeyId }))).Rotations?.length, 0);
  });
});

describe('UpdatePrimaryRegion', () => {
  it('swaps the roles: the replica becomes the primary, rotation settings follow, the old primary is a replica', async () => {
    const key = await createMrk();
    await replicate(key.KeyId!);
    await east.send(new EnableKeyRotationCommand({ KeyId: key.KeyId, RotationPeriodInDays: 180 }));
    await east.send(new UpdatePrimaryRegionCommand({ KeyId: key.KeyId, PrimaryRegion: 'eu-west-1' }));

    const westKey = await describe_(west, key.KeyId!);
    assert.equal(westKey.MultiRegionConfiguration?.MultiRegionKeyType, 'PRIMARY');
    assert.deepEqual(westKey.MultiRegionConfiguration?.PrimaryKey, { Arn: arnIn('eu-west-1', key), Region: 'eu-west-1' });
    assert.deepEqual(westKey.MultiRegionConfiguration?.ReplicaKeys, [{ Arn: key.Arn, Region: 'us-east-1' }]);
    assert.equal((await describe_(east, key.KeyId!)).MultiRegionConfiguration?.MultiRegionKeyType, 'REPLICA');
    assert.equal((await west.send(new GetKeyRotationStatusCommand({ KeyId: key.KeyId }))).RotationPeriodInDays, 180);

    // Only the new primary replicates and rotates now.
    await rejectsWith(replicate(key.KeyId!, 'ap-south-1', east), 'UnsupportedOperationException');
    await rejectsWith(east.send(new RotateKeyOnDemandCommand({ KeyId: key.KeyId })), 'UnsupportedOperationException');
    await west.send(new RotateKeyOnDemandCommand({ KeyId: key.KeyId }));
    assert.equal(await decrypt(east, await encrypt(west, key.KeyId!, 'from the new primary')), 'from the new primary');
    await west.send(new UpdatePrimaryRegionCommand({ KeyId: key.KeyId, PrimaryRegion: 'us-east-1' }));
    assert.equal((await describe_(east, key.KeyId!)).MultiRegionConfiguration?.MultiRegionKeyType, 'PRIMARY');
  });

  it('errors: a replica as KeyId, a Region without a replica, the primary\'s own Region, a single-Region key', async () => {
    const key = await createMrk();
    await replicate(key.KeyId!);
    await rejectsWith(west.send(new UpdatePrimaryRegionCommand({ KeyId: key.KeyId, PrimaryRegion: 'us-east-1' })), 'UnsupportedOperationException');
    await rejectsWith(east.send(new UpdatePrimaryRegionCommand({ KeyId: key.KeyId, PrimaryRegion: 'ap-south-1' })), 'NotFoundException');
    await rejectsWith(east.send(new UpdatePrimaryRegionCommand({ KeyId: key.KeyId, PrimaryRegion: 'us-east-1' })), 'UnsupportedOperationException');
    await rejectsWith(east.send(new UpdatePrimaryRegionCommand({ KeyId: key.KeyId, PrimaryRegion: 'not a region' })), 'ValidationException');
    const single = await createKey(east);
    await rejectsWith(east.send(new UpdatePrimaryRegionCommand({ KeyId: single.KeyId, PrimaryRegion: 'eu-west-1' })), 'UnsupportedOperationException');
    assert.equal((await describe_(east, key.KeyId!)).MultiRegionConfiguration?.MultiRegionKeyType, 'PRIMARY');
  });
});

describe('deleting a multi-Region key', () => {
  it('a primary with replicas waits in PendingReplicaDeletion; when its last replica is deleted its own window starts', async () => {
    const key = await createMrk();
    await replicate(key.KeyId!);
    const blob = await encrypt(east, key.KeyId!, 'survives in the replica');
    const scheduled = await east.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: 10 }));
    assert.equal(scheduled.KeyState, 'PendingReplicaDeletion');
    assert.equal(scheduled.DeletionDate, undefined);
    assert.equal(scheduled.PendingWindowInDays, 10);
    const pending = await describe_(east, key.KeyId!);
    assert.equal(pending.KeyState, 'PendingReplicaDeletion');
    assert.equal(pending.Enabled, false);
    await rejectsWith(encrypt(east, key.KeyId!, 'no'), 'KMSInvalidStateException');
    await rejectsWith(replicate(key.KeyId!, 'ap-south-1'), 'KMSInvalidStateException');
    // The replica is a key of its own: it still decrypts what the primary made.
    assert.equal(await decrypt(west, blob), 'survives in the replica');

    // Time alone does not delete a primary that waits for its replicas.
    clock.advanceDays(40);
    await server.server.coffer.runMaintenance();
    assert.equal((await describe_(east, key.KeyId!)).KeyState, 'PendingReplicaDeletion');

    const replicaScheduled = await west.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: 7 }));
    assert.equal(replicaScheduled.KeyState, 'PendingDeletion');
    clock.advanceDays(8);
    const destroyedAt = clock.now().getTime();
    await server.server.coffer.runMaintenance();
    await rejectsWith(west.send(new DescribeKeyCommand({ KeyId: key.KeyId })), 'NotFoundException');
    const primary = await describe_(east, key.KeyId!);
    assert.equal(primary.KeyState, 'PendingDeletion');
    assert.equal(primary.DeletionDate?.getTime(), destroyedAt + 10 * 86_400_000);
    assert.deepEqual(primary.MultiRegionConfiguration?.ReplicaKeys, []);

    clock.advanceDays(11);
    await rejectsWith(east.send(new DescribeKeyCommand({ KeyId: key.KeyId })), 'NotFoundException');
  });

  it('CancelKeyDeletion of a primary in PendingReplicaDeletion leaves it Disabled; a primary without replicas is PendingDeletion at once', async () => {
    const key = await createMrk();
    await replicate(key.KeyId!);
    await east.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: 7 }));
    await east.send(new CancelKeyDeletionCommand({ KeyId: key.KeyId }));
    assert.equal((await describe_(east, key.KeyId!)).KeyState, 'Disabled');

    const alone = await createMrk();
    const scheduled = await east.send(new ScheduleKeyDeletionCommand({ KeyId: alone.KeyId, PendingWindowInDays: 7 }));
    assert.equal(scheduled.KeyState, 'PendingDeletion');
    assert.equal(scheduled.DeletionDate?.getTime(), clock.now().getTime() + 7 * 86_400_000);
  });
});

describe('the AWS CLI', () => {
  it('aws kms replicate-key --region us-east-1 --replica-region eu-central-1', async () => {
    const key = await createMrk();
    const stdout = await shellOk(
      `aws kms replicate-key --key-id ${key.KeyId} --replica-region eu-central-1 --description "from the cli" --region us-east-1 --endpoint-url "$COFFER_URL"`,
      { cwd: workDir, credentials: server.admin, env: { COFFER_URL: server.url } },
    );
    const output = JSON.parse(stdout);
    assert.equal(output.ReplicaKeyMetadata.Arn, arnIn('eu-central-1', key));
    assert.equal(output.ReplicaKeyMetadata.MultiRegionConfiguration.MultiRegionKeyType, 'REPLICA');
    const frankfurt = server.kms({ region: 'eu-central-1' });
    assert.equal((await describe_(frankfurt, key.KeyId!)).Description, 'from the cli');
    assert.equal(await decrypt(frankfurt, await encrypt(east, key.KeyId!, 'cli')), 'cli');
  });
});
