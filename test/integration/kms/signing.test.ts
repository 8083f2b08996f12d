import assert from 'node:assert/strict';
import { constants, createHash, createPublicKey, randomBytes, verify as verifyWith, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  DisableKeyCommand,
  EnableKeyCommand,
  GetPublicKeyCommand,
  ScheduleKeyDeletionCommand,
  CancelKeyDeletionCommand,
  SignCommand,
  VerifyCommand,
  CreateGrantCommand,
  type KeySpec,
  type KMSClient,
  type SigningAlgorithmSpec,
} from '@aws-sdk/client-kms';
import { assertOpensslVerifies, flipBit } from '../../helpers/openssl-verify.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';
import { createKey, rejectsWith } from '../../helpers/kms.js';
import { shellOk } from '../../helpers/aws-cli.js';
import { runPythonOk } from '../../helpers/python.js';
import { auditEvents, auditRows } from '../../helpers/audit.js';
import { createUser } from '../../helpers/principals.js';

/** Every signing key spec with the signing algorithms AWS lists for it (ED25519_PH_SHA_512 is tested apart). */
const SIGNING: Array<{ spec: KeySpec; algorithms: SigningAlgorithmSpec[] }> = [
  ...(['RSA_2048', 'RSA_3072', 'RSA_4096'] as const).map((spec) => ({
    spec,
    algorithms: [
      'RSASSA_PKCS1_V1_5_SHA_256',
      'RSASSA_PKCS1_V1_5_SHA_384',
      'RSASSA_PKCS1_V1_5_SHA_512',
      'RSASSA_PSS_SHA_256',
      'RSASSA_PSS_SHA_384',
      'RSASSA_PSS_SHA_512',
    ] as SigningAlgorithmSpec[],
  })),
  { spec: 'ECC_NIST_P256', algorithms: ['ECDSA_SHA_256'] },
  { spec: 'ECC_NIST_P384', algorithms: ['ECDSA_SHA_384'] },
  { spec: 'ECC_NIST_P521', algorithms: ['ECDSA_SHA_512'] },
  { spec: 'ECC_SECG_P256K1', algorithms: ['ECDSA_SHA_256'] },
  { spec: 'ECC_NIST_EDWARDS25519', algorithms: ['ED25519_SHA_512'] },
  { spec: 'ML_DSA_44', algorithms: ['ML_DSA_SHAKE_256'] },
  { spec: 'ML_DSA_65', algorithms: ['ML_DSA_SHAKE_256'] },
  { spec: 'ML_DSA_87', algorithms: ['ML_DSA_SHAKE_256'] },
];

/** Verifies with node:crypto the way a user outside KMS would, from the algorithm's name and the public key alone. */
function verifyLocally(algorithm: string, publicKey: KeyObject, message: Buffer, signature: Buffer): boolean {
  const hash = /SHA_(256|384|512)$/.exec(algorithm)?.[1];
  if (algorithm.startsWith('RSASSA_PSS')) {
    return verifyWith(`sha${hash}`, message, { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(hash) / 8 }, signature);
  }
  if (algorithm.startsWith('RSASSA_PKCS1')) return verifyWith(`sha${hash}`, message, { key: publicKey, padding: constants.RSA_PKCS1_PADDING }, signature);
  if (algorithm.startsWith('ECDSA')) return verifyWith(`sha${hash}`, message, { key: publicKey, dsaEncoding: 'der' }, signature);
  return verifyWith(null, message, publicKey, signature);
}

let server: TestServer;
let kms: KMSClient;
let scratch: string;
const keys = new Map<string, string>();

before(async () => {
  server = await startTestServer();
  kms = server.kms();
  scratch = mkdtempSync(join(tmpdir(), 'coffer-signing-'));
  await Promise.all(
    SIGNING.map(async ({ spec }) => keys.set(spec, (await createKey(kms, { KeySpec: spec, KeyUsage: 'SIGN_VERIFY' })).KeyId!)),
  );
});
after(async () => {
  rmSync(scratch, { recursive: true, force: true });
  await server.cleanup();
});

async function publicKeyOf(keyId: string): Promise<KeyObject> {
  const { PublicKey } = await kms.send(new GetPublicKeyCommand({ KeyId: keyId }));
  return createPublicKey({ key: Buffer.from(PublicKey!), format: 'der', type: 'spki' });
}

describe('GetPublicKey', () => {
  it('returns the SubjectPublicKeyInfo DER and the key spec, usage and signing algorithms', async () => {
    const keyId = keys.get('ECC_NIST_P256')!;
    const response = await kms.send(new GetPublicKeyCommand({ KeyId: keyId }));
    assert.match(response.KeyId!, new RegExp(`^arn:aws:kms:us-east-1:000000000000:key/${keyId}$`));
    assert.equal(response.KeySpec, 'ECC_NIST_P256');
    assert.equal(response.CustomerMasterKeySpec, 'ECC_NIST_P256');
    assert.equal(response.KeyUsage, 'SIGN_VERIFY');
    assert.deepEqual(response.SigningAlgorithms, ['ECDSA_SHA_256']);
    assert.equal(response.EncryptionAlgorithms, undefined);
    const publicKey = createPublicKey({ key: Buffer.from(response.PublicKey!), format: 'der', type: 'spki' });
    assert.equal(publicKey.asymmetricKeyType, 'ec');
    assert.equal(publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  });

  it('gives each key type its own public key type and size', async () => {
    const expected: Record<string, [string, Record<string, unknown>]> = {
      RSA_3072: ['rsa', { modulusLength: 3072 }],
      ECC_SECG_P256K1: ['ec', { namedCurve: 'secp256k1' }],
      ECC_NIST_P521: ['ec', { namedCurve: 'secp521r1' }],
      ECC_NIST_EDWARDS25519: ['ed25519', {}],
      ML_DSA_87: ['ml-dsa-87', {}],
    };
    for (const [spec, [type, details]] of Object.entries(expected)) {
      const publicKey = await publicKeyOf(keys.get(spec)!);
      assert.equal(publicKey.asymmetricKeyType, type, spec);
      for (const [name, value] of Object.entries(details)) assert.equal((publicKey.asymmetricKeyDetails as Record<string, unknown>)[name], value, spec);
    }
    // The same public key on every call.
    const a = await kms.send(new GetPublicKeyCommand({ KeyId: keys.get('ML_DSA_65')! }));
    const b = await kms.send(new GetPublicKeyCommand({ KeyId: keys.get('ML_DSA_65')! }));
    assert.deepEqual(Buffer.from(a.PublicKey!), Buffer.from(b.PublicKey!));
    assert.equal(a.CustomerMasterKeySpec, undefined);
  });

  it('lists the encryption or key agreement algorithms of RSA encryption and ECDH keys', async () => {
    const rsa = await createKey(kms, { KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT' });
    const rsaPublic = await kms.send(new GetPublicKeyCommand({ KeyId: rsa.KeyId }));
    assert.deepEqual(rsaPublic.EncryptionAlgorithms, ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256']);
    assert.equal(rsaPublic.SigningAlgorithms, undefined);
    const ecdh = await createKey(kms, { KeySpec: 'ECC_NIST_P384', KeyUsage: 'KEY_AGREEMENT' });
    const ecdhPublic = await kms.send(new GetPublicKeyCommand({ KeyId: ecdh.KeyId }));
    assert.deepEqual(ecdhPublic.KeyAgreementAlgorithms, ['ECDH']);
    assert.equal(ecdhPublic.KeyUsage, 'KEY_AGREEMENT');
  });

  it('refuses symmetric and HMAC keys with UnsupportedOperationException', async () => {
    const symmetric = await createKey(kms);
    const hmac = await createKey(kms, { KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' });
    for (const key of [symmetric, hmac]) {
      await rejectsWith(kms.send(new GetPublicKeyCommand({ KeyId: key.KeyId })), 'UnsupportedOperationException');
    }
  });
});

describe('Sign and Verify', () => {
  it('signs with every signing spec and algorithm; the signature verifies with the public key alone, and with Verify', async () => {
    const message = Buffer.from(`a message to sign ${randomBytes(8).toString('hex')}`);
    for (const { spec, algorithms } of SIGNING) {
      const keyId = keys.get(spec)!;
      const publicKey = await publicKeyOf(keyId);
      for (const algorithm of algorithms) {
        const label = `${spec} ${algorithm}`;
        const signed = await kms.send(new SignCommand({ KeyId: keyId, Message: message, SigningAlgorithm: algorithm }));
        assert.equal(signed.SigningAlgorithm, algorithm, label);
        assert.match(signed.KeyId!, new RegExp(`key/${keyId}$`), label);
        const signature = Buffer.from(signed.Signature!);
        assert.ok(verifyLocally(algorithm, publicKey, message, signature), `${label}: node:crypto verifies`);
        assert.ok(!verifyLocally(algorithm, publicKey, flipBit(message, 0), signature), `${label}: not for another message`);

        const verified = await kms.send(new VerifyCommand({ KeyId: keyId, Message: message, Signature: signature, SigningAlgorithm: algorithm, MessageType: 'RAW' }));
        assert.equal(verified.SignatureValid, true, label);
        assert.equal(verified.SigningAlgorithm, algorithm, label);
        assert.equal(verified.KeyId, signed.KeyId, label);
        const flipped = kms.send(new VerifyCommand({ KeyId: keyId, Message: message, Signature: flipBit(signature, signature.length >> 1), SigningAlgorithm: algorithm }));
        await rejectsWith(flipped, 'KMSInvalidSignatureException');
      }
    }
  });

  it("produces signatures the openssl command verifies with the SPKI DER converted to PEM (RSA-PSS, RSA PKCS #1, ECDSA P-256, Ed25519)", async () => {
    const message = Buffer.from('verified by openssl\n');
    writeFileSync(join(scratch, 'message'), message);
    const cases: Array<{ spec: string; algorithm: SigningAlgorithmSpec; command: string }> = [
      { spec: 'RSA_2048', algorithm: 'RSASSA_PSS_SHA_256', command: 'openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 -verify pub.pem -signature sig message' },
      { spec: 'RSA_3072', algorithm: 'RSASSA_PSS_SHA_512', command: 'openssl dgst -sha512 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:64 -verify pub.pem -signature sig message' },
      { spec: 'RSA_4096', algorithm: 'RSASSA_PKCS1_V1_5_SHA_384', command: 'openssl dgst -sha384 -verify pub.pem -signature sig message' },
      { spec: 'ECC_NIST_P256', algorithm: 'ECDSA_SHA_256', command: 'openssl dgst -sha256 -verify pub.pem -signature sig message' },
      { spec: 'ECC_SECG_P256K1', algorithm: 'ECDSA_SHA_256', command: 'openssl dgst -sha256 -verify pub.pem -signature sig message' },
      { spec: 'ECC_NIST_EDWARDS25519', algorithm: 'ED25519_SHA_512', command: 'openssl pkeyutl -verify -pubin -inkey pub.pem -rawin -in message -sigfile sig' },
    ];
    for (const { spec, algorithm, command } of cases) {
      const keyId = keys.get(spec)!;
      const { PublicKey } = await kms.send(new GetPublicKeyCommand({ KeyId: keyId }));
      const { Signature } = await kms.send(new SignCommand({ KeyId: keyId, Message: message, SigningAlgorithm: algorithm, MessageType: 'RAW' }));
      await assertOpensslVerifies(scratch, PublicKey!, Signature!, command, `${spec} ${algorithm}`);
    }
  });

  it('signs a SHA-2 digest with RSASSA_PKCS1_V1_5 (MessageType DIGEST): the same signature as over the message', async () => {
    const keyId = keys.get('RSA_2048')!;
    const publicKey = await publicKeyOf(keyId);
    const message = Buffer.from('digest me');
    for (const [algorithm, hash] of [['RSASSA_PKCS1_V1_5_SHA_256', 'sha256'], ['RSASSA_PKCS1_V1_5_SHA_512', 'sha512']] as const) {
      const digest = createHash(hash).update(message).digest();
      const overDigest = await kms.send(new SignCommand({ KeyId: keyId, Message: digest, MessageType: 'DIGEST', SigningAlgorithm: algorithm }));
      const overMessage = await kms.send(new SignCommand({ KeyId: keyId, Message: message, MessageType: 'RAW', SigningAlgorithm: algorithm }));
      assert.deepEqual(Buffer.from(overDigest.Signature!), Buffer.from(overMessage.Signature!));
      assert.ok(verifyLocally(algorithm, publicKey, message, Buffer.from(overDigest.Signature!)));
      const verified = await kms.send(new VerifyCommand({ KeyId: keyId, Message: digest, MessageType: 'DIGEST', Signature: overDigest.Signature, SigningAlgorithm: algorithm }));
      assert.equal(verified.SignatureValid, true);
      // A RAW Verify hashes the digest again: no match.
      await rejectsWith(kms.send(new VerifyCommand({ KeyId: keyId, Message: digest, Signature: overDigest.Signature, SigningAlgorithm: algorithm })), 'KMSInvalidSignatureException');
      await rejectsWith(
        kms.send(new VerifyCommand({ KeyId: keyId, Message: flipBit(digest, 3), MessageType: 'DIGEST', Signature: overDigest.Signature, SigningAlgorithm: algorithm })),
        'KMSInvalidSignatureException',
      );
    }
  });

  it('refuses a digest whose length is not the algorithm hash length with ValidationException', async () => {
    const cases: Array<[string, SigningAlgorithmSpec, number]> = [
      ['RSA_2048', 'RSASSA_PKCS1_V1_5_SHA_256', 48],
      ['RSA_2048', 'RSASSA_PSS_SHA_384', 32],
      ['ECC_NIST_P256', 'ECDSA_SHA_256', 31],
      ['ECC_NIST_P521', 'ECDSA_SHA_512', 32],
    ];
    for (const [spec, algorithm, length] of cases) {
      const sign = kms.send(new SignCommand({ KeyId: keys.get(spec)!, Message: randomBytes(length), MessageType: 'DIGEST', SigningAlgorithm: algorithm }));
      const error = await rejectsWith(sign, 'ValidationException');
      assert.match(error.message, new RegExp(`Digest is invalid length for algorithm ${algorithm}`));
      const verify = kms.send(new VerifyCommand({ KeyId: keys.get(spec)!, Message: randomBytes(length), MessageType: 'DIGEST', Signature: randomBytes(64), SigningAlgorithm: algorithm }));
      await rejectsWith(verify, 'ValidationException');
    }
  });

  it('applies the message type rules of Ed25519 and ML-DSA with ValidationException', async () => {
    const ed = keys.get('ECC_NIST_EDWARDS25519')!;
    const mlDsa = keys.get('ML_DSA_44')!;
    const refused: Array<[string, SigningAlgorithmSpec, 'RAW' | 'DIGEST' | 'EXTERNAL_MU', number]> = [
      [ed, 'ED25519_SHA_512', 'DIGEST', 64],
      [ed, 'ED25519_PH_SHA_512', 'RAW', 64],
      [ed, 'ED25519_PH_SHA_512', 'DIGEST', 32],
      [mlDsa, 'ML_DSA_SHAKE_256', 'DIGEST', 64],
      [mlDsa, 'ML_DSA_SHAKE_256', 'EXTERNAL_MU', 32],
      [keys.get('ECC_NIST_P256')!, 'ECDSA_SHA_256', 'EXTERNAL_MU', 64],
    ];
    for (const [keyId, algorithm, messageType, length] of refused) {
      await rejectsWith(
        kms.send(new SignCommand({ KeyId: keyId, Message: randomBytes(length), MessageType: messageType, SigningAlgorithm: algorithm })),
        'ValidationException',
      );
    }
  });

  it('refuses an algorithm the key does not support, and keys that are not SIGN_VERIFY, with InvalidKeyUsageException', async () => {
    const message = Buffer.from('m');
    const wrongAlgorithm: Array<[string, SigningAlgorithmSpec]> = [
      ['ECC_NIST_P256', 'ECDSA_SHA_384'],
      ['ECC_NIST_P384', 'RSASSA_PSS_SHA_384'],
      ['RSA_2048', 'ECDSA_SHA_256'],
      ['RSA_2048', 'ML_DSA_SHAKE_256'],
      ['ML_DSA_65', 'ED25519_SHA_512'],
      ['ECC_NIST_EDWARDS25519', 'ECDSA_SHA_512'],
    ];
    for (const [spec, algorithm] of wrongAlgorithm) {
      const error = await rejectsWith(kms.send(new SignCommand({ KeyId: keys.get(spec)!, Message: message, SigningAlgorithm: algorithm })), 'InvalidKeyUsageException');
      assert.match(error.message, new RegExp(`${algorithm} is not compatible with KeySpec ${spec}`));
    }
    const others = await Promise.all([
      createKey(kms),
      createKey(kms, { KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT' }),
      createKey(kms, { KeySpec: 'HMAC_384', KeyUsage: 'GENERATE_VERIFY_MAC' }),
      createKey(kms, { KeySpec: 'ECC_NIST_P256', KeyUsage: 'KEY_AGREEMENT' }),
    ]);
    for (const key of others) {
      const error = await rejectsWith(kms.send(new SignCommand({ KeyId: key.KeyId, Message: message, SigningAlgorithm: 'RSASSA_PSS_SHA_256' })), 'InvalidKeyUsageException');
      assert.match(error.message, /which is not valid for Sign/);
      await rejectsWith(
        kms.send(new VerifyCommand({ KeyId: key.KeyId, Message: message, Signature: randomBytes(256), SigningAlgorithm: 'RSASSA_PSS_SHA_256' })),
        'InvalidKeyUsageException',
      );
    }
  });

  it('requires SigningAlgorithm, and refuses a message over 4096 bytes (ValidationException)', async () => {
    const keyId = keys.get('ECC_NIST_P256')!;
    await rejectsWith(kms.send(new SignCommand({ KeyId: keyId, Message: Buffer.from('m') } as never)), 'ValidationException');
    await rejectsWith(kms.send(new SignCommand({ KeyId: keyId, Message: randomBytes(4097), SigningAlgorithm: 'ECDSA_SHA_256' })), 'ValidationException');
    const largest = await kms.send(new SignCommand({ KeyId: keyId, Message: randomBytes(4096), SigningAlgorithm: 'ECDSA_SHA_256' }));
    assert.ok(largest.Signature!.length > 0);
  });

  it('answers DryRunOperationException for a request that would succeed, and signs nothing', async () => {
    const keyId = keys.get('ECC_NIST_P384')!;
    const dryRun = await rejectsWith(kms.send(new SignCommand({ KeyId: keyId, Message: Buffer.from('m'), SigningAlgorithm: 'ECDSA_SHA_384', DryRun: true })), 'DryRunOperationException', 412);
    assert.match(dryRun.message, /DryRun/);
    await rejectsWith(kms.send(new SignCommand({ KeyId: keyId, Message: Buffer.from('m'), SigningAlgorithm: 'ECDSA_SHA_256', DryRun: true })), 'InvalidKeyUsageException');
  });

  it('refuses a disabled key with DisabledException and a key pending deletion with KMSInvalidStateException', async () => {
    const { KeyId } = await createKey(kms, { KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
    const { Signature } = await kms.send(new SignCommand({ KeyId, Message: Buffer.from('m'), SigningAlgorithm: 'ECDSA_SHA_256' }));
    const calls = [
      () => kms.send(new SignCommand({ KeyId, Message: Buffer.from('m'), SigningAlgorithm: 'ECDSA_SHA_256' })),
      () => kms.send(new VerifyCommand({ KeyId, Message: Buffer.from('m'), Signature, SigningAlgorithm: 'ECDSA_SHA_256' })),
      () => kms.send(new GetPublicKeyCommand({ KeyId })),
    ];
    await kms.send(new DisableKeyCommand({ KeyId }));
    for (const call of calls) await rejectsWith(call(), 'DisabledException');
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId, PendingWindowInDays: 7 }));
    for (const call of calls) await rejectsWith(call(), 'KMSInvalidStateException');
    await kms.send(new CancelKeyDeletionCommand({ KeyId }));
    await kms.send(new EnableKeyCommand({ KeyId }));
    const verified = await kms.send(new VerifyCommand({ KeyId, Message: Buffer.from('m'), Signature, SigningAlgorithm: 'ECDSA_SHA_256' }));
    assert.equal(verified.SignatureValid, true);
  });

  it('authorizes kms:Sign on the key with kms:SigningAlgorithm, and lets a grant for Sign allow it', async () => {
    const keyId = keys.get('ECC_NIST_P256')!;
    const { arn, keys: user } = await createUser(server, server.admin, 'signing-user', {
      policy: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: ['kms:Sign', 'kms:GetPublicKey'], Resource: '*', Condition: { StringEquals: { 'kms:SigningAlgorithm': 'ECDSA_SHA_256' } } }],
      },
    });
    const asUser = server.kms({ credentials: user });
    const signed = await asUser.send(new SignCommand({ KeyId: keyId, Message: Buffer.from('m'), SigningAlgorithm: 'ECDSA_SHA_256' }));
    assert.ok(signed.Signature);
    // The policy allows no Verify; a grant does.
    await rejectsWith(asUser.send(new VerifyCommand({ KeyId: keyId, Message: Buffer.from('m'), Signature: signed.Signature, SigningAlgorithm: 'ECDSA_SHA_256' })), 'AccessDeniedException');
    await kms.send(new CreateGrantCommand({ KeyId: keyId, GranteePrincipal: arn, Operations: ['Verify'] }));
    const verified = await asUser.send(new VerifyCommand({ KeyId: keyId, Message: Buffer.from('m'), Signature: signed.Signature, SigningAlgorithm: 'ECDSA_SHA_256' }));
    assert.equal(verified.SignatureValid, true);
    // Another algorithm is outside the policy's condition.
    const rsa = keys.get('RSA_2048')!;
    await rejectsWith(asUser.send(new SignCommand({ KeyId: rsa, Message: Buffer.from('m'), SigningAlgorithm: 'RSASSA_PSS_SHA_256' })), 'AccessDeniedException');
    asUser.destroy();
  });

  it('keeps Message and Signature out of the audit log', async () => {
    const marker = `audit-marker-${randomBytes(8).toString('hex')}`;
    const signed = await kms.send(new SignCommand({ KeyId: keys.get('ECC_NIST_P256')!, Message: Buffer.from(marker), SigningAlgorithm: 'ECDSA_SHA_256' }));
    const event = auditEvents(server.dataDir).find((candidate) => candidate.requestID === signed.$metadata.requestId)!;
    assert.equal(event.eventName, 'Sign');
    assert.equal(event.requestParameters.SigningAlgorithm, 'ECDSA_SHA_256');
    assert.equal(event.requestParameters.Message, undefined);
    // Sign is a read-only call: CloudTrail keeps no responseElements for it.
    assert.equal(event.responseElements, null);
    assert.equal(event.readOnly, true);
    const everything = auditRows(server.dataDir).map((row) => row.body).join('\n');
    assert.ok(!everything.includes(marker));
    assert.ok(!everything.includes(Buffer.from(marker).toString('base64')));
  });
});

describe('other clients', () => {
  it('the AWS CLI signs a file (fileb://) and boto3 verifies the signature', async () => {
    const keyId = keys.get('RSA_2048')!;
    writeFileSync(join(scratch, 'cli-message'), 'signed through the AWS CLI\n');
    const output = await shellOk(
      `aws kms sign --endpoint-url ${server.url} --key-id ${keyId} --message fileb://cli-message --message-type RAW --signing-algorithm RSASSA_PSS_SHA_256 --output json`,
      { cwd: scratch, credentials: server.admin, region: 'us-east-1' },
    );
    const signed = JSON.parse(output) as { Signature: string; SigningAlgorithm: string; KeyId: string };
    assert.equal(signed.SigningAlgorithm, 'RSASSA_PSS_SHA_256');
    assert.ok(verifyLocally('RSASSA_PSS_SHA_256', await publicKeyOf(keyId), Buffer.from('signed through the AWS CLI\n'), Buffer.from(signed.Signature, 'base64')));

    const script = `
import base64, boto3, sys
kms = boto3.client('kms')
signature = base64.b64decode(sys.argv[1] if len(sys.argv) > 1 else ${JSON.stringify(signed.Signature)})
result = kms.verify(KeyId=${JSON.stringify(keyId)}, Message=b'signed through the AWS CLI\\n', MessageType='RAW',
                    Signature=signature, SigningAlgorithm='RSASSA_PSS_SHA_256')
assert result['SignatureValid'] is True, result
try:
    kms.verify(KeyId=${JSON.stringify(keyId)}, Message=b'another message', Signature=signature, SigningAlgorithm='RSASSA_PSS_SHA_256')
    print('unexpected success')
except kms.exceptions.KMSInvalidSignatureException:
    print('verified')
`;
    const stdout = await runPythonOk('verify.py', script, { cwd: scratch, credentials: server.admin, endpointUrl: server.url });
    assert.equal(stdout.trim(), 'verified');
  });
});
