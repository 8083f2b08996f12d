import assert from 'node:assert/strict';
import {
  constants,
  createHmac,
  createPrivateKey,
  diffieHellman,
  generateKeyPairSync,
  publicEncrypt,
  randomBytes,
  verify,
} from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CancelKeyDeletionCommand,
  DecryptCommand,
  DeleteImportedKeyMaterialCommand,
  DeriveSharedSecretCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GenerateMacCommand,
  GetParametersForImportCommand,
  GetPublicKeyCommand,
  ImportKeyMaterialCommand,
  ReplicateKeyCommand,
  ScheduleKeyDeletionCommand,
  SignCommand,
  VerifyMacCommand,
  type AlgorithmSpec,
  type CreateKeyCommandInput,
  type KMSClient,
  type WrappingKeySpec,
} from '@aws-sdk/client-kms';
import { shellOk } from '../../helpers/aws-cli.js';
import { createKey, rejectsWith, wrapKeyMaterial } from '../../helpers/kms.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

/**
 * Imported material for HMAC, RSA and ECC keys and for multi-Region keys: the client makes the material with
 * node:crypto (or openssl), wraps it as AWS's guide says, and checks what Coffer does with it against what only
 * the client knows (its own public key, its own HMAC key, its own ECDH result).
 */

let server: TestServer;
let east: KMSClient;
let west: KMSClient;
let workDir: string;

before(async () => {
  server = await startTestServer();
  east = server.kms({ region: 'us-east-1' });
  west = server.kms({ region: 'eu-west-1' });
  workDir = mkdtempSync(join(tmpdir(), 'coffer-kms-import2-'));
});
after(async () => {
  rmSync(workDir, { recursive: true, force: true });
  await server.cleanup();
});


async function importMaterial(
  kms: KMSClient,
  keyId: string,
  material: Buffer,
  algorithm: AlgorithmSpec = 'RSA_AES_KEY_WRAP_SHA_256',
  spec: WrappingKeySpec = 'RSA_2048',
) {
  const params = await kms.send(new GetParametersForImportCommand({ KeyId: keyId, WrappingAlgorithm: algorithm, WrappingKeySpec: spec }));
  return kms.send(
    new ImportKeyMaterialCommand({
      KeyId: keyId,
      ImportToken: params.ImportToken,
      EncryptedKeyMaterial: wrapKeyMaterial(params.PublicKey!, material, algorithm),
      ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE',
    }),
  );
}

const external = (kms: KMSClient, input: CreateKeyCommandInput) => createKey(kms, { Origin: 'EXTERNAL', ...input });
const state = async (kms: KMSClient, keyId: string) => (await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!.KeyState;
const pkcs8 = (key: ReturnType<typeof generateKeyPairSync>['privateKey']) => key.export({ format: 'der', type: 'pkcs8' });
const message = Buffer.from('signed with imported material');

describe('asymmetric keys with imported material', () => {
  it('RSA_2048 SIGN_VERIFY: PendingImport refusals, RSAES_OAEP refused for RSA material, RSA_AES_KEY_WRAP import, Coffer signs what the client verifies with its own public key', async () => {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const key = await external(east, { KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' });
    assert.equal(key.KeyState, 'PendingImport');
    assert.deepEqual(key.SigningAlgorithms?.includes('RSASSA_PSS_SHA_256'), true);
    await rejectsWith(east.send(new SignCommand({ KeyId: key.KeyId, Message: message, SigningAlgorithm: 'RSASSA_PSS_SHA_256' })), 'KMSInvalidStateException');
    await rejectsWith(east.send(new GetPublicKeyCommand({ KeyId: key.KeyId })), 'KMSInvalidStateException');
    const refused = await rejectsWith(
      east.send(new GetParametersForImportCommand({ KeyId: key.KeyId, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_4096' })),
      'ValidationException',
    );
    assert.match(refused.message, /RSA_AES_KEY_WRAP/);

    const imported = await importMaterial(east, key.KeyId!, pkcs8(pair.privateKey));
    assert.match(imported.KeyMaterialId!, /^[0-9a-f]{64}$/);
    assert.equal(await state(east, key.KeyId!), 'Enabled');
    for (const SigningAlgorithm of ['RSASSA_PSS_SHA_256', 'RSASSA_PKCS1_V1_5_SHA_384'] as const) {
      const { Signature } = await east.send(new SignCommand({ KeyId: key.KeyId, Message: message, SigningAlgorithm }));
      const padding = SigningAlgorithm.startsWith('RSASSA_PSS') ? constants.RSA_PKCS1_PSS_PADDING : constants.RSA_PKCS1_PADDING;
      const hash = SigningAlgorithm.endsWith('384') ? 'sha384' : 'sha256';
      assert.ok(verify(hash, message, { key: pair.publicKey, padding, saltLength: 32 }, Buffer.from(Signature!)), SigningAlgorithm);
    }
    const { PublicKey } = await east.send(new GetPublicKeyCommand({ KeyId: key.KeyId }));
    assert.deepEqual(Buffer.from(PublicKey!), pair.publicKey.export({ format: 'der', type: 'spki' }));

    // Deleted and imported again (with the other RSA_AES algorithm, a bigger wrapping key): the same KeyMaterialId.
    await east.send(new DeleteImportedKeyMaterialCommand({ KeyId: key.KeyId }));
    await rejectsWith(east.send(new SignCommand({ KeyId: key.KeyId, Message: message, SigningAlgorithm: 'RSASSA_PSS_SHA_256' })), 'KMSInvalidStateException');
    const again = await importMaterial(east, key.KeyId!, pkcs8(pair.privateKey), 'RSA_AES_KEY_WRAP_SHA_1', 'RSA_3072');
    assert.equal(again.KeyMaterialId, imported.KeyMaterialId);
    // Another RSA_2048 private key is other material.
    await rejectsWith(importMaterial(east, key.KeyId!, pkcs8(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey)), 'IncorrectKeyMaterialException');
  });

  it('RSA_2048 ENCRYPT_DECRYPT: Coffer decrypts what the client encrypted with its own public key', async () => {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const key = await external(east, { KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT' });
    await importMaterial(east, key.KeyId!, pkcs8(pair.privateKey));
    const secret = Buffer.from('for the imported RSA key');
    const ciphertext = publicEncrypt({ key: pair.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, secret);
    const { Plaintext } = await east.send(new DecryptCommand({ KeyId: key.KeyId, CiphertextBlob: ciphertext, EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' }));
    assert.deepEqual(Buffer.from(Plaintext!), secret);
  });

  it('ECC_NIST_P256 SIGN_VERIFY (RSAES_OAEP wrapping) and KEY_AGREEMENT (DeriveSharedSecret equals the client\'s own ECDH)', async () => {
    const signing = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const signKey = await external(east, { KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
    await importMaterial(east, signKey.KeyId!, pkcs8(signing.privateKey), 'RSAES_OAEP_SHA_256');
    const { Signature } = await east.send(new SignCommand({ KeyId: signKey.KeyId, Message: message, SigningAlgorithm: 'ECDSA_SHA_256' }));
    assert.ok(verify('sha256', message, signing.publicKey, Buffer.from(Signature!)));

    const agreement = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const peer = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const agreeKey = await external(east, { KeySpec: 'ECC_NIST_P256', KeyUsage: 'KEY_AGREEMENT' });
    await importMaterial(east, agreeKey.KeyId!, pkcs8(agreement.privateKey), 'RSA_AES_KEY_WRAP_SHA_1');
    const { SharedSecret } = await east.send(
      new DeriveSharedSecretCommand({ KeyId: agreeKey.KeyId, KeyAgreementAlgorithm: 'ECDH', PublicKey: peer.publicKey.export({ format: 'der', type: 'spki' }) }),
    );
    assert.deepEqual(Buffer.from(SharedSecret!), diffieHellman({ privateKey: peer.privateKey, publicKey: agreement.publicKey }));
  });

  it('material of another kind, curve or size is IncorrectKeyMaterialException and changes nothing; P-521 with RSAES_OAEP under RSA_2048 is refused', async () => {
    const p256 = await external(east, { KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
    const rsa = await external(east, { KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' });
    const wrong: Array<[string, Buffer, string]> = [
      [p256.KeyId!, pkcs8(generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey), 'prime256v1'],
      [p256.KeyId!, pkcs8(generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey), 'prime256v1'],
      [p256.KeyId!, pkcs8(generateKeyPairSync('ed25519').privateKey), 'prime256v1'],
      [p256.KeyId!, randomBytes(32), 'PKCS #8'],
      [rsa.KeyId!, pkcs8(generateKeyPairSync('rsa', { modulusLength: 3072 }).privateKey), '2048-bit'],
      [rsa.KeyId!, pkcs8(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey), '2048-bit'],
    ];
    for (const [keyId, material, why] of wrong) {
      const error = await rejectsWith(importMaterial(east, keyId, material), 'IncorrectKeyMaterialException');
      assert.match(error.message, new RegExp(why));
      assert.equal(await state(east, keyId), 'PendingImport');
    }
    const p521 = await external(east, { KeySpec: 'ECC_NIST_P521', KeyUsage: 'SIGN_VERIFY' });
    await rejectsWith(
      east.send(new GetParametersForImportCommand({ KeyId: p521.KeyId, WrappingAlgorithm: 'RSAES_OAEP_SHA_1', WrappingKeySpec: 'RSA_2048' })),
      'ValidationException',
    );
    const p521Pair = generateKeyPairSync('ec', { namedCurve: 'secp521r1' });
    await importMaterial(east, p521.KeyId!, pkcs8(p521Pair.privateKey), 'RSAES_OAEP_SHA_256', 'RSA_3072');
    const { Signature } = await east.send(new SignCommand({ KeyId: p521.KeyId, Message: message, SigningAlgorithm: 'ECDSA_SHA_512' }));
    assert.ok(verify('sha512', message, p521Pair.publicKey, Buffer.from(Signature!)));
  });

  it('the AWS CLI imports openssl-made P-256 material; GetPublicKey is openssl\'s public key', async () => {
    const key = await external(east, { KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
    await shellOk(
      `set -e
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec.pem
openssl pkcs8 -topk8 -nocrypt -outform DER -in ec.pem -out PlaintextKeyMaterial.der
openssl pkey -in ec.pem -pubout -outform DER -out public.der
aws kms get-parameters-for-import --key-id ${key.KeyId} --wrapping-algorithm RSAES_OAEP_SHA_256 --wrapping-key-spec RSA_2048 \\
  --query '[PublicKey,ImportToken]' --output text --endpoint-url "$COFFER_URL" > params.txt
cut -f1 params.txt | openssl enc -d -base64 -A -out WrappingPublicKey.bin
cut -f2 params.txt | openssl enc -d -base64 -A -out ImportToken.bin
openssl pkeyutl -encrypt -in PlaintextKeyMaterial.der -out EncryptedKeyMaterial.bin -inkey WrappingPublicKey.bin \\
  -keyform DER -pubin -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256
aws kms import-key-material --key-id ${key.KeyId} --encrypted-key-material fileb://EncryptedKeyMaterial.bin \\
  --import-token fileb://ImportToken.bin --expiration-model KEY_MATERIAL_DOES_NOT_EXPIRE --endpoint-url "$COFFER_URL"
`,
      { cwd: workDir, credentials: server.admin, region: 'us-east-1', env: { COFFER_URL: server.url } },
    );
    const { PublicKey } = await east.send(new GetPublicKeyCommand({ KeyId: key.KeyId }));
    assert.deepEqual(Buffer.from(PublicKey!), readFileSync(join(workDir, 'public.der')));
    const { Signature } = await east.send(new SignCommand({ KeyId: key.KeyId, Message: message, SigningAlgorithm: 'ECDSA_SHA_256' }));
    assert.ok(verify('sha256', message, createPrivateKey(readFileSync(join(workDir, 'ec.pem'))), Buffer.from(Signature!)));
  });
});

describe('HMAC keys with imported material', () => {
  it('HMAC_256: GenerateMac equals node:crypto createHmac over the imported bytes; VerifyMac accepts it', async () => {
    const material = randomBytes(32);
    const key = await external(east, { KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' });
    await rejectsWith(east.send(new GenerateMacCommand({ KeyId: key.KeyId, Message: message, MacAlgorithm: 'HMAC_SHA_256' })), 'KMSInvalidStateException');
    await importMaterial(east, key.KeyId!, material, 'RSAES_OAEP_SHA_1');
    const { Mac } = await east.send(new GenerateMacCommand({ KeyId: key.KeyId, Message: message, MacAlgorithm: 'HMAC_SHA_256' }));
    assert.deepEqual(Buffer.from(Mac!), createHmac('sha256', material).update(message).digest());
    const verified = await east.send(new VerifyMacCommand({ KeyId: key.KeyId, Message: message, MacAlgorithm: 'HMAC_SHA_256', Mac }));
    assert.equal(verified.MacValid, true);
  });

  it('HMAC lengths: HMAC_224 takes 28 to 64 bytes, HMAC_512 64 to 128; others are IncorrectKeyMaterialException', async () => {
    const h224 = await external(east, { KeySpec: 'HMAC_224', KeyUsage: 'GENERATE_VERIFY_MAC' });
    await rejectsWith(importMaterial(east, h224.KeyId!, randomBytes(27)), 'IncorrectKeyMaterialException');
    await rejectsWith(importMaterial(east, h224.KeyId!, randomBytes(65)), 'IncorrectKeyMaterialException');
    const long = randomBytes(64);
    await importMaterial(east, h224.KeyId!, long);
    const { Mac } = await east.send(new GenerateMacCommand({ KeyId: h224.KeyId, Message: message, MacAlgorithm: 'HMAC_SHA_224' }));
    assert.deepEqual(Buffer.from(Mac!), createHmac('sha224', long).update(message).digest());

    const h512 = await external(east, { KeySpec: 'HMAC_512', KeyUsage: 'GENERATE_VERIFY_MAC' });
    await rejectsWith(importMaterial(east, h512.KeyId!, randomBytes(63)), 'IncorrectKeyMaterialException');
    await rejectsWith(importMaterial(east, h512.KeyId!, randomBytes(129)), 'IncorrectKeyMaterialException');
    assert.equal(await state(east, h512.KeyId!), 'PendingImport');
  });

  it('a single-Region key\'s KeyMaterialId is still bound to its ARN (ids stored before stay valid)', async () => {
    const material = randomBytes(32);
    const key = await external(east, {});
    const { KeyMaterialId } = await importMaterial(east, key.KeyId!, material);
    assert.equal(KeyMaterialId, createHmac('sha256', material).update(`coffer key material id\0${key.Arn}`, 'utf8').digest('hex'));
  });
});

describe('multi-Region keys with imported material', () => {
  it('the primary is PendingImport; its replica is created PendingImport without material, takes only the same material, and then decrypts across Regions', async () => {
    const material = randomBytes(32);
    const primary = await external(east, { MultiRegion: true });
    assert.match(primary.KeyId!, /^mrk-[0-9a-f]{32}$/);
    assert.equal(primary.KeyState, 'PendingImport');
    assert.equal(primary.MultiRegionConfiguration?.MultiRegionKeyType, 'PRIMARY');
    // Not replicable before it has material (ReplicateKey needs an Enabled or Disabled primary).
    await rejectsWith(east.send(new ReplicateKeyCommand({ KeyId: primary.KeyId, ReplicaRegion: 'eu-west-1' })), 'KMSInvalidStateException');
    const imported = await importMaterial(east, primary.KeyId!, material);
    const { CiphertextBlob } = await east.send(new EncryptCommand({ KeyId: primary.KeyId, Plaintext: message }));

    const { ReplicaKeyMetadata } = await east.send(new ReplicateKeyCommand({ KeyId: primary.KeyId, ReplicaRegion: 'eu-west-1' }));
    assert.equal(ReplicaKeyMetadata!.KeyState, 'PendingImport');
    assert.equal(ReplicaKeyMetadata!.Origin, 'EXTERNAL');
    await rejectsWith(west.send(new DecryptCommand({ CiphertextBlob })), 'KMSInvalidStateException');
    await rejectsWith(west.send(new EncryptCommand({ KeyId: primary.KeyId, Plaintext: message })), 'KMSInvalidStateException');

    // Other material, or "new" material, is refused on the replica and changes nothing.
    const other = await rejectsWith(importMaterial(west, primary.KeyId!, randomBytes(32)), 'IncorrectKeyMaterialException');
    assert.match(other.message, /primary/);
    const params = await west.send(new GetParametersForImportCommand({ KeyId: primary.KeyId, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' }));
    await rejectsWith(
      west.send(
        new ImportKeyMaterialCommand({
          KeyId: primary.KeyId,
          ImportToken: params.ImportToken,
          EncryptedKeyMaterial: wrapKeyMaterial(params.PublicKey!, material, 'RSAES_OAEP_SHA_256'),
          ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE',
          ImportType: 'NEW_KEY_MATERIAL',
        }),
      ),
      'ValidationException',
    );
    assert.equal(await state(west, primary.KeyId!), 'PendingImport');

    const replicaImport = await importMaterial(west, primary.KeyId!, material, 'RSAES_OAEP_SHA_256');
    assert.equal(replicaImport.KeyMaterialId, imported.KeyMaterialId);
    assert.equal(replicaImport.KeyId, ReplicaKeyMetadata!.Arn);
    assert.deepEqual(Buffer.from((await west.send(new DecryptCommand({ CiphertextBlob }))).Plaintext!), message);
    const fromWest = await west.send(new EncryptCommand({ KeyId: primary.KeyId, Plaintext: message }));
    assert.deepEqual(Buffer.from((await east.send(new DecryptCommand({ CiphertextBlob: fromWest.CiphertextBlob }))).Plaintext!), message);

    // Material is per member: deleting the replica's leaves the primary Enabled.
    await west.send(new DeleteImportedKeyMaterialCommand({ KeyId: primary.KeyId }));
    assert.equal(await state(west, primary.KeyId!), 'PendingImport');
    assert.equal(await state(east, primary.KeyId!), 'Enabled');
    assert.deepEqual(Buffer.from((await east.send(new DecryptCommand({ CiphertextBlob: fromWest.CiphertextBlob }))).Plaintext!), message);

    // A member PendingImport may be scheduled for deletion (as a single-Region key may); cancelled, it is PendingImport again.
    const scheduled = await west.send(new ScheduleKeyDeletionCommand({ KeyId: primary.KeyId, PendingWindowInDays: 7 }));
    assert.equal(scheduled.KeyState, 'PendingDeletion');
    await west.send(new CancelKeyDeletionCommand({ KeyId: primary.KeyId }));
    assert.equal(await state(west, primary.KeyId!), 'PendingImport');
    const fresh = await external(east, { MultiRegion: true });
    assert.equal((await east.send(new ScheduleKeyDeletionCommand({ KeyId: fresh.KeyId, PendingWindowInDays: 7 }))).KeyState, 'PendingDeletion');
  });

  it('a multi-Region ECC signing key: the same private key imported in both Regions signs in each, verified with the client\'s public key', async () => {
    const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const primary = await external(east, { MultiRegion: true, KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
    const first = await importMaterial(east, primary.KeyId!, pkcs8(pair.privateKey));
    await east.send(new ReplicateKeyCommand({ KeyId: primary.KeyId, ReplicaRegion: 'eu-west-1' }));
    await rejectsWith(
      importMaterial(west, primary.KeyId!, pkcs8(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey)),
      'IncorrectKeyMaterialException',
    );
    const second = await importMaterial(west, primary.KeyId!, pkcs8(pair.privateKey));
    assert.equal(second.KeyMaterialId, first.KeyMaterialId);
    for (const kms of [east, west]) {
      const { Signature } = await kms.send(new SignCommand({ KeyId: primary.KeyId, Message: message, SigningAlgorithm: 'ECDSA_SHA_256' }));
      assert.ok(verify('sha256', message, pair.publicKey, Buffer.from(Signature!)));
    }
  });
});
