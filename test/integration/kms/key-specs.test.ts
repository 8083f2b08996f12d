import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CreateGrantCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  ListKeysCommand,
  ReEncryptCommand,
  RotateKeyOnDemandCommand,
  type KeySpec,
  type KeyUsageType,
  type KMSClient,
} from '@aws-sdk/client-kms';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';
import { createKey, rejectsWith } from '../../helpers/kms.js';

/**
 * Every key spec and key usage AWS allows, with the algorithms KeyMetadata lists for each, written from AWS's
 * documentation (the key spec reference, CreateKey's KeyUsage, and the AWS CLI's create-key/describe-key examples).
 */
type Expected = {
  spec: KeySpec;
  usage: KeyUsageType;
  encryption?: string[];
  signing?: string[];
  keyAgreement?: string[];
  mac?: string[];
  /** CustomerMasterKeySpec is left out for specs its (deprecated) enum lacks. */
  cmkSpec: boolean;
};

const RSA_SIGNING = [
  'RSASSA_PKCS1_V1_5_SHA_256',
  'RSASSA_PKCS1_V1_5_SHA_384',
  'RSASSA_PKCS1_V1_5_SHA_512',
  'RSASSA_PSS_SHA_256',
  'RSASSA_PSS_SHA_384',
  'RSASSA_PSS_SHA_512',
];
const RSA_ENCRYPTION = ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'];

const EXPECTED: Expected[] = [
  { spec: 'SYMMETRIC_DEFAULT', usage: 'ENCRYPT_DECRYPT', encryption: ['SYMMETRIC_DEFAULT'], cmkSpec: true },
  ...(['RSA_2048', 'RSA_3072', 'RSA_4096'] as const).flatMap((spec): Expected[] => [
    { spec, usage: 'ENCRYPT_DECRYPT', encryption: RSA_ENCRYPTION, cmkSpec: true },
    { spec, usage: 'SIGN_VERIFY', signing: RSA_SIGNING, cmkSpec: true },
  ]),
  { spec: 'ECC_NIST_P256', usage: 'SIGN_VERIFY', signing: ['ECDSA_SHA_256'], cmkSpec: true },
  { spec: 'ECC_NIST_P384', usage: 'SIGN_VERIFY', signing: ['ECDSA_SHA_384'], cmkSpec: true },
  { spec: 'ECC_NIST_P521', usage: 'SIGN_VERIFY', signing: ['ECDSA_SHA_512'], cmkSpec: true },
  { spec: 'ECC_NIST_P256', usage: 'KEY_AGREEMENT', keyAgreement: ['ECDH'], cmkSpec: true },
  { spec: 'ECC_NIST_P384', usage: 'KEY_AGREEMENT', keyAgreement: ['ECDH'], cmkSpec: true },
  { spec: 'ECC_NIST_P521', usage: 'KEY_AGREEMENT', keyAgreement: ['ECDH'], cmkSpec: true },
  { spec: 'ECC_SECG_P256K1', usage: 'SIGN_VERIFY', signing: ['ECDSA_SHA_256'], cmkSpec: true },
  { spec: 'ECC_NIST_EDWARDS25519', usage: 'SIGN_VERIFY', signing: ['ED25519_SHA_512', 'ED25519_PH_SHA_512'], cmkSpec: false },
  { spec: 'ML_DSA_44', usage: 'SIGN_VERIFY', signing: ['ML_DSA_SHAKE_256'], cmkSpec: false },
  { spec: 'ML_DSA_65', usage: 'SIGN_VERIFY', signing: ['ML_DSA_SHAKE_256'], cmkSpec: false },
  { spec: 'ML_DSA_87', usage: 'SIGN_VERIFY', signing: ['ML_DSA_SHAKE_256'], cmkSpec: false },
  { spec: 'HMAC_224', usage: 'GENERATE_VERIFY_MAC', mac: ['HMAC_SHA_224'], cmkSpec: true },
  { spec: 'HMAC_256', usage: 'GENERATE_VERIFY_MAC', mac: ['HMAC_SHA_256'], cmkSpec: true },
  { spec: 'HMAC_384', usage: 'GENERATE_VERIFY_MAC', mac: ['HMAC_SHA_384'], cmkSpec: true },
  { spec: 'HMAC_512', usage: 'GENERATE_VERIFY_MAC', mac: ['HMAC_SHA_512'], cmkSpec: true },
];

/** Combinations AWS refuses (CreateKey, KeyUsage). */
const REFUSED: Array<[KeySpec, KeyUsageType]> = [
  ['SYMMETRIC_DEFAULT', 'SIGN_VERIFY'],
  ['SYMMETRIC_DEFAULT', 'GENERATE_VERIFY_MAC'],
  ['RSA_2048', 'KEY_AGREEMENT'],
  ['RSA_2048', 'GENERATE_VERIFY_MAC'],
  ['ECC_NIST_P256', 'ENCRYPT_DECRYPT'],
  ['ECC_SECG_P256K1', 'KEY_AGREEMENT'],
  ['ECC_NIST_EDWARDS25519', 'KEY_AGREEMENT'],
  ['ECC_NIST_EDWARDS25519', 'ENCRYPT_DECRYPT'],
  ['ML_DSA_65', 'ENCRYPT_DECRYPT'],
  ['ML_DSA_44', 'KEY_AGREEMENT'],
  ['HMAC_256', 'ENCRYPT_DECRYPT'],
  ['HMAC_512', 'SIGN_VERIFY'],
];

let server: TestServer;
let kms: KMSClient;

before(async () => {
  server = await startTestServer();
  kms = server.kms();
});
after(async () => server.cleanup());

describe('CreateKey with every key spec', () => {
  it('creates each spec and usage AWS allows, with the algorithms AWS lists, in CreateKey and DescribeKey', async () => {
    await Promise.all(
      EXPECTED.map(async (expected) => {
        const label = `${expected.spec}/${expected.usage}`;
        const created = await createKey(kms, { KeySpec: expected.spec, KeyUsage: expected.usage });
        const { KeyMetadata: described } = await kms.send(new DescribeKeyCommand({ KeyId: created.KeyId }));
        for (const metadata of [created, described!]) {
          assert.equal(metadata.KeySpec, expected.spec, label);
          assert.equal(metadata.KeyUsage, expected.usage, label);
          assert.equal(metadata.CustomerMasterKeySpec, expected.cmkSpec ? expected.spec : undefined, label);
          assert.equal(metadata.KeyState, 'Enabled', label);
          assert.equal(metadata.Origin, 'AWS_KMS', label);
          assert.deepEqual(metadata.EncryptionAlgorithms, expected.encryption, `${label} EncryptionAlgorithms`);
          assert.deepEqual(metadata.SigningAlgorithms, expected.signing, `${label} SigningAlgorithms`);
          assert.deepEqual(metadata.KeyAgreementAlgorithms, expected.keyAgreement, `${label} KeyAgreementAlgorithms`);
          assert.deepEqual(metadata.MacAlgorithms, expected.mac, `${label} MacAlgorithms`);
        }
      }),
    );
  });

  it('refuses a key usage the spec does not support with ValidationException', async () => {
    for (const [spec, usage] of REFUSED) {
      const error = await rejectsWith(kms.send(new CreateKeyCommand({ KeySpec: spec, KeyUsage: usage })), 'ValidationException');
      assert.match(error.message, new RegExp(`KeyUsage ${usage} is not compatible with KeySpec ${spec}`));
    }
  });

  it('requires KeyUsage for every spec but SYMMETRIC_DEFAULT (ValidationException)', async () => {
    for (const spec of ['RSA_2048', 'ECC_NIST_P256', 'ECC_NIST_EDWARDS25519', 'ML_DSA_65', 'HMAC_256'] as const) {
      const error = await rejectsWith(kms.send(new CreateKeyCommand({ KeySpec: spec })), 'ValidationException');
      assert.match(error.message, /KeyUsage is required/);
    }
  });

  it('accepts the deprecated CustomerMasterKeySpec for an asymmetric key', async () => {
    const key = await createKey(kms, { CustomerMasterKeySpec: 'ECC_NIST_P384', KeyUsage: 'SIGN_VERIFY' });
    assert.equal(key.KeySpec, 'ECC_NIST_P384');
    assert.deepEqual(key.SigningAlgorithms, ['ECDSA_SHA_384']);
  });

  it('refuses SM2 (China Regions only) with UnsupportedOperationException and creates nothing', async () => {
    const isolated = server.kms({ region: 'sa-east-1' });
    for (const usage of ['SIGN_VERIFY', 'ENCRYPT_DECRYPT', 'KEY_AGREEMENT'] as const) {
      const error = await rejectsWith(isolated.send(new CreateKeyCommand({ KeySpec: 'SM2', KeyUsage: usage })), 'UnsupportedOperationException');
      assert.match(error.message, /SM2/);
    }
    await rejectsWith(isolated.send(new CreateKeyCommand({ KeySpec: 'RSA_2048', KeyUsage: 'KEY_AGREEMENT' })), 'ValidationException');
    const { Keys } = await isolated.send(new ListKeysCommand({}));
    assert.deepEqual(Keys, []);
  });
});

describe('private keys at rest', () => {
  it('never stores a private key in the clear: no key algorithm identifier in the database files', async () => {
    // Keys of every family exist by now (the CreateKey tests above ran first). A PKCS#8 private key in the clear
    // would carry its algorithm's OID; sealed material is random-looking bytes.
    await createKey(kms, { KeySpec: 'ECC_NIST_EDWARDS25519', KeyUsage: 'SIGN_VERIFY' });
    const oids = {
      rsaEncryption: '06092a864886f70d010101',
      idEcPublicKey: '06072a8648ce3d0201',
      ed25519: '06032b6570',
      mlDsa44: '0609608648016503040311',
      mlDsa65: '0609608648016503040312',
      mlDsa87: '0609608648016503040313',
    };
    const files = ['coffer.db', 'coffer.db-wal'].map((name) => join(server.dataDir, name)).filter((path) => existsSync(path));
    assert.ok(files.length > 0);
    for (const path of files) {
      const bytes = readFileSync(path);
      for (const [name, oid] of Object.entries(oids)) {
        assert.equal(bytes.indexOf(Buffer.from(oid, 'hex')), -1, `${name} OID found in ${path}`);
      }
    }
  });
});

describe('symmetric-only operations on other keys', () => {
  let signing: string;
  let hmac: string;
  let rsaEncryption: string;
  let agreement: string;
  let symmetric: string;

  before(async () => {
    const ids = await Promise.all(
      [
        { KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' },
        { KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' },
        { KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT' },
        { KeySpec: 'ECC_NIST_P384', KeyUsage: 'KEY_AGREEMENT' },
        {},
      ].map(async (input) => (await createKey(kms, input as never)).KeyId!),
    );
    [signing, hmac, rsaEncryption, agreement, symmetric] = ids as [string, string, string, string, string];
  });

  it('refuses Encrypt, GenerateDataKey and ReEncrypt with a signing, MAC or key agreement key (InvalidKeyUsageException)', async () => {
    for (const keyId of [signing, hmac, agreement]) {
      const encrypt = await rejectsWith(kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x') })), 'InvalidKeyUsageException');
      assert.match(encrypt.message, /key usage is (SIGN_VERIFY|GENERATE_VERIFY_MAC|KEY_AGREEMENT) which is not valid for Encrypt/);
      await rejectsWith(kms.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256' })), 'InvalidKeyUsageException');
    }
    const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: symmetric, Plaintext: Buffer.from('x') }));
    await rejectsWith(kms.send(new ReEncryptCommand({ CiphertextBlob, DestinationKeyId: signing })), 'InvalidKeyUsageException');
    // Decrypt naming a signing key for a symmetric ciphertext: the ciphertext names another key.
    await rejectsWith(kms.send(new DecryptCommand({ CiphertextBlob, KeyId: signing })), 'IncorrectKeyException');
  });

  it('refuses data keys under an asymmetric encryption key (InvalidKeyUsageException)', async () => {
    await rejectsWith(kms.send(new GenerateDataKeyCommand({ KeyId: rsaEncryption, KeySpec: 'AES_256' })), 'InvalidKeyUsageException');
    const wrongAlgorithm = kms.send(new EncryptCommand({ KeyId: rsaEncryption, Plaintext: Buffer.from('x'), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' }));
    const error = await rejectsWith(wrongAlgorithm, 'InvalidKeyUsageException');
    assert.equal(error.message, 'Algorithm SYMMETRIC_DEFAULT is incompatible with key spec RSA_2048.');
  });

  it('refuses rotation of asymmetric and HMAC keys with UnsupportedOperationException', async () => {
    for (const keyId of [signing, hmac, rsaEncryption]) {
      await rejectsWith(kms.send(new EnableKeyRotationCommand({ KeyId: keyId })), 'UnsupportedOperationException');
      await rejectsWith(kms.send(new RotateKeyOnDemandCommand({ KeyId: keyId })), 'UnsupportedOperationException');
    }
  });

  it('allows the grant operations each key type supports, and refuses the others with ValidationException', async () => {
    const grantee = 'arn:aws:iam::000000000000:user/grant-test';
    const grant = (keyId: string, operations: string[]) =>
      kms.send(new CreateGrantCommand({ KeyId: keyId, GranteePrincipal: grantee, Operations: operations as never }));
    await grant(signing, ['Sign', 'Verify', 'GetPublicKey', 'DescribeKey']);
    await grant(hmac, ['GenerateMac', 'VerifyMac']);
    await grant(rsaEncryption, ['Encrypt', 'Decrypt', 'GetPublicKey']);
    await grant(agreement, ['DeriveSharedSecret', 'GetPublicKey']);
    await rejectsWith(grant(symmetric, ['Sign']), 'ValidationException');
    await rejectsWith(grant(signing, ['Encrypt']), 'ValidationException');
    await rejectsWith(grant(hmac, ['GetPublicKey']), 'ValidationException');
    await rejectsWith(grant(rsaEncryption, ['GenerateDataKey']), 'ValidationException');
  });

  it('refuses encryption context grant constraints on asymmetric and HMAC keys with ValidationException', async () => {
    const grantee = 'arn:aws:iam::000000000000:user/grant-test';
    const constrained = (keyId: string, operations: string[]) =>
      kms.send(
        new CreateGrantCommand({
          KeyId: keyId,
          GranteePrincipal: grantee,
          Operations: operations as never,
          Constraints: { EncryptionContextSubset: { purpose: 'test' } },
        }),
      );
    for (const [keyId, operations] of [[signing, ['Sign']], [hmac, ['GenerateMac']], [rsaEncryption, ['Decrypt']]] as const) {
      const error = await rejectsWith(constrained(keyId, [...operations]), 'ValidationException');
      assert.match(error.message, /grant constraints are not supported/);
    }
    await constrained(symmetric, ['Decrypt']);
  });
});
