import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  CreateAliasCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  ListAliasesCommand,
  ListKeyRotationsCommand,
  ListKeysCommand,
  ListResourceTagsCommand,
  RotateKeyOnDemandCommand,
  ScheduleKeyDeletionCommand,
  type KeyMetadata,
  type KMSClient,
} from '@aws-sdk/client-kms';
import { createKey, uniqueAliasName } from '../../helpers/kms.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

/**
 * Everything KMS keeps survives a restart on the same data dir: the root key file there is reused, so key
 * material sealed by the first server opens in the second.
 */
describe('KMS state across a server restart', () => {
  const context = { app: 'persistence' };
  let original: TestServer;
  let restarted: TestServer;
  let kms: KMSClient;

  let key: KeyMetadata;
  let rotatedKey: KeyMetadata;
  let disabledKey: KeyMetadata;
  let pendingKey: KeyMetadata;
  let aliasName: string;
  let ciphertext: Uint8Array;
  let beforeRotation: Uint8Array;
  let afterRotation: Uint8Array;
  let keyIdsBefore: string[];
  const policy = JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Sid: 'kept', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::000000000000:root' }, Action: 'kms:*', Resource: '*' }],
  });

  async function encrypt(client: KMSClient, keyId: string, text: string): Promise<Uint8Array> {
    const { CiphertextBlob } = await client.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from(text), EncryptionContext: context }));
    return CiphertextBlob!;
  }

  async function decryptText(client: KMSClient, blob: Uint8Array): Promise<string> {
    const { Plaintext } = await client.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: context }));
    return Buffer.from(Plaintext!).toString();
  }

  before(async () => {
    original = await startTestServer();
    const first = original.kms();
    key = await createKey(first, { Description: 'survivor', Tags: [{ TagKey: 'owner', TagValue: 'ops' }], Policy: policy });
    aliasName = uniqueAliasName('survivor');
    await first.send(new CreateAliasCommand({ AliasName: aliasName, TargetKeyId: key.KeyId }));
    ciphertext = await encrypt(first, aliasName, 'written before the restart');

    rotatedKey = await createKey(first);
    await first.send(new EnableKeyRotationCommand({ KeyId: rotatedKey.KeyId, RotationPeriodInDays: 180 }));
    beforeRotation = await encrypt(first, rotatedKey.KeyId!, 'sealed by the first backing key');
    await first.send(new RotateKeyOnDemandCommand({ KeyId: rotatedKey.KeyId }));
    afterRotation = await encrypt(first, rotatedKey.KeyId!, 'sealed by the second backing key');

    disabledKey = await createKey(first);
    await first.send(new DisableKeyCommand({ KeyId: disabledKey.KeyId }));
    pendingKey = await createKey(first);
    await first.send(new ScheduleKeyDeletionCommand({ KeyId: pendingKey.KeyId, PendingWindowInDays: 7 }));
    keyIdsBefore = ((await first.send(new ListKeysCommand({}))).Keys ?? []).map((entry) => entry.KeyId!).sort();

    await original.stop();
    restarted = await startTestServer({ dataDir: original.dataDir });
    // The administrator key created on the first start still signs requests.
    kms = restarted.kms({ credentials: original.admin });
  });

  after(async () => {
    await restarted?.cleanup();
    await original?.cleanup();
  });

  it('reuses the root key file instead of creating a new one', () => {
    assert.equal(original.server.coffer.rootKeyCreated, true);
    assert.equal(restarted.server.coffer.rootKeyCreated, false);
  });

  it('an old ciphertext decrypts after the restart', async () => {
    assert.equal(await decryptText(kms, ciphertext), 'written before the restart');
  });

  it('ciphertexts from before and after an on-demand rotation both decrypt, and the rotation is listed', async () => {
    assert.equal(await decryptText(kms, beforeRotation), 'sealed by the first backing key');
    assert.equal(await decryptText(kms, afterRotation), 'sealed by the second backing key');
    const { Rotations } = await kms.send(new ListKeyRotationsCommand({ KeyId: rotatedKey.KeyId }));
    assert.deepEqual(Rotations?.map((rotation) => rotation.RotationType), ['ON_DEMAND']);
    const status = await kms.send(new GetKeyRotationStatusCommand({ KeyId: rotatedKey.KeyId }));
    assert.equal(status.KeyRotationEnabled, true);
    assert.equal(status.RotationPeriodInDays, 180);
  });

  it('new ciphertexts use the backing key that was current before the restart', async () => {
    const fresh = Buffer.from(await encrypt(kms, rotatedKey.KeyId!, 'after restart'));
    assert.equal(fresh.subarray(17, 33).toString('hex'), Buffer.from(afterRotation).subarray(17, 33).toString('hex'));
  });

  it('keys keep their metadata, states, tags and policy', async () => {
    const keyIdsAfter = ((await kms.send(new ListKeysCommand({}))).Keys ?? []).map((entry) => entry.KeyId!).sort();
    assert.deepEqual(keyIdsAfter, keyIdsBefore);

    const described = await kms.send(new DescribeKeyCommand({ KeyId: key.KeyId }));
    assert.equal(described.KeyMetadata?.Description, 'survivor');
    assert.equal(described.KeyMetadata?.CreationDate?.getTime(), key.CreationDate?.getTime());
    const { Tags } = await kms.send(new ListResourceTagsCommand({ KeyId: key.KeyId }));
    assert.deepEqual(Tags, [{ TagKey: 'owner', TagValue: 'ops' }]);
    assert.equal((await kms.send(new GetKeyPolicyCommand({ KeyId: key.KeyId }))).Policy, policy);

    const disabled = await kms.send(new DescribeKeyCommand({ KeyId: disabledKey.KeyId }));
    assert.equal(disabled.KeyMetadata?.KeyState, 'Disabled');
    const pending = await kms.send(new DescribeKeyCommand({ KeyId: pendingKey.KeyId }));
    assert.equal(pending.KeyMetadata?.KeyState, 'PendingDeletion');
    assert.equal(pending.KeyMetadata?.PendingDeletionWindowInDays, 7);
  });

  it('aliases survive and still resolve to their key', async () => {
    const { Aliases } = await kms.send(new ListAliasesCommand({ KeyId: key.KeyId }));
    assert.deepEqual(Aliases?.map((alias) => alias.AliasName), [aliasName]);
    const { KeyMetadata } = await kms.send(new DescribeKeyCommand({ KeyId: aliasName }));
    assert.equal(KeyMetadata?.Arn, key.Arn);
  });

  it('a server given another root key for this data dir refuses to start', async () => {
    await restarted.stop();
    await assert.rejects(startTestServer({ dataDir: original.dataDir, rootKeyBase64: randomBytes(32).toString('base64') }), /root key/);
  });
});
