import assert from 'node:assert/strict';
import { constants, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  GenerateDataKeyCommand,
  GenerateDataKeyPairWithoutPlaintextCommand,
  GetParametersForImportCommand,
  ImportKeyMaterialCommand,
  ListKeyRotationsCommand,
  ReEncryptCommand,
  ReplicateKeyCommand,
  RotateKeyOnDemandCommand,
  type KMSClient,
} from '@aws-sdk/client-kms';
import { createKey } from '../../helpers/kms.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

/**
 * KeyMaterialId, as AWS's model returns it for symmetric encryption keys: DescribeKey's CurrentKeyMaterialId,
 * and the material each result was made with (GenerateDataKey*, Decrypt, ReEncrypt, ListKeyRotations).
 */
const MATERIAL_ID = /^[0-9a-f]{64}$/;

let server: TestServer;
let kms: KMSClient;

before(async () => {
  server = await startTestServer();
  kms = server.kms();
});
after(async () => server.cleanup());

async function currentMaterialId(client: KMSClient, keyId: string): Promise<string | undefined> {
  return (await client.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!.CurrentKeyMaterialId;
}

describe('KeyMaterialId', () => {
  it('follows rotation: each result names the material that made or opened it', async () => {
    const key = await createKey(kms);
    const first = await currentMaterialId(kms, key.KeyId!);
    assert.match(first ?? '', MATERIAL_ID);
    const dataKey = await kms.send(new GenerateDataKeyCommand({ KeyId: key.KeyId, KeySpec: 'AES_256' }));
    assert.equal(dataKey.KeyMaterialId, first);
    const pair = await kms.send(new GenerateDataKeyPairWithoutPlaintextCommand({ KeyId: key.KeyId, KeyPairSpec: 'ECC_NIST_P256' }));
    assert.equal(pair.KeyMaterialId, first);

    await kms.send(new RotateKeyOnDemandCommand({ KeyId: key.KeyId }));
    const second = await currentMaterialId(kms, key.KeyId!);
    assert.match(second ?? '', MATERIAL_ID);
    assert.notEqual(second, first);
    const rotations = (await kms.send(new ListKeyRotationsCommand({ KeyId: key.KeyId }))).Rotations!;
    assert.deepEqual(rotations.map((rotation) => rotation.KeyMaterialId), [second]);

    assert.equal((await kms.send(new DecryptCommand({ CiphertextBlob: dataKey.CiphertextBlob }))).KeyMaterialId, first, 'the old material opened it');
    const reEncrypted = await kms.send(new ReEncryptCommand({ CiphertextBlob: dataKey.CiphertextBlob, DestinationKeyId: key.KeyId }));
    assert.equal(reEncrypted.SourceKeyMaterialId, first);
    assert.equal(reEncrypted.DestinationKeyMaterialId, second);
    assert.equal((await kms.send(new DecryptCommand({ CiphertextBlob: reEncrypted.CiphertextBlob }))).KeyMaterialId, second);
  });

  it('is the same in every Region of a multi-Region key, and absent for keys other than symmetric encryption keys', async () => {
    const primary = (await kms.send(new CreateKeyCommand({ MultiRegion: true }))).KeyMetadata!;
    await kms.send(new ReplicateKeyCommand({ KeyId: primary.KeyId, ReplicaRegion: 'eu-west-1' }));
    const west = server.kms({ region: 'eu-west-1' });
    assert.match(primary.CurrentKeyMaterialId ?? '', MATERIAL_ID);
    assert.equal(await currentMaterialId(west, primary.KeyId!), primary.CurrentKeyMaterialId);

    const signing = await createKey(kms, { KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
    assert.equal(signing.CurrentKeyMaterialId, undefined);
  });

  it('of imported material is the id ImportKeyMaterial answered', async () => {
    const key = await createKey(kms, { Origin: 'EXTERNAL' });
    assert.equal(key.CurrentKeyMaterialId, undefined, 'no material yet');
    const params = await kms.send(new GetParametersForImportCommand({ KeyId: key.KeyId, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' }));
    const wrapped = publicEncrypt(
      { key: createPublicKey({ key: Buffer.from(params.PublicKey!), format: 'der', type: 'spki' }), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
      randomBytes(32),
    );
    const imported = await kms.send(
      new ImportKeyMaterialCommand({ KeyId: key.KeyId, ImportToken: params.ImportToken, EncryptedKeyMaterial: wrapped, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' }),
    );
    assert.match(imported.KeyMaterialId ?? '', MATERIAL_ID);
    assert.equal(await currentMaterialId(kms, key.KeyId!), imported.KeyMaterialId);
    const dataKey = await kms.send(new GenerateDataKeyCommand({ KeyId: key.KeyId, KeySpec: 'AES_128' }));
    assert.equal(dataKey.KeyMaterialId, imported.KeyMaterialId);
  });
});
