import assert from 'node:assert/strict';
import { constants, createHash, createPublicKey, randomBytes, verify as verifyWith, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GetPublicKeyCommand, SignCommand, VerifyCommand, type KeySpec, type KMSClient, type SigningAlgorithmSpec } from '@aws-sdk/client-kms';
import type { Logger } from '../../../src/core/index.js';
import { loadDigestSigner } from '../../../src/crypto/index.js';
import { assertOpensslVerifies, flipBit } from '../../helpers/openssl-verify.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';
import { createKey, rejectsWith } from '../../helpers/kms.js';
import { shellOk } from '../../helpers/aws-cli.js';

/**
 * MessageType DIGEST with RSASSA-PSS and ECDSA, ED25519_PH_SHA_512 and ML-DSA EXTERNAL_MU: computed by the
 * kms-digest addon (Node's own OpenSSL), checked against node:crypto, the openssl command and FIPS 204's μ.
 */

const SPECS: KeySpec[] = ['RSA_2048', 'ECC_NIST_P256', 'ECC_NIST_P384', 'ECC_NIST_P521', 'ECC_SECG_P256K1', 'ECC_NIST_EDWARDS25519', 'ML_DSA_44', 'ML_DSA_87'];

const DIGEST_CASES: Array<{ spec: KeySpec; algorithm: SigningAlgorithmSpec; hash: 'sha256' | 'sha384' | 'sha512' }> = [
  { spec: 'RSA_2048', algorithm: 'RSASSA_PSS_SHA_256', hash: 'sha256' },
  { spec: 'RSA_2048', algorithm: 'RSASSA_PSS_SHA_384', hash: 'sha384' },
  { spec: 'RSA_2048', algorithm: 'RSASSA_PSS_SHA_512', hash: 'sha512' },
  { spec: 'ECC_NIST_P256', algorithm: 'ECDSA_SHA_256', hash: 'sha256' },
  { spec: 'ECC_NIST_P384', algorithm: 'ECDSA_SHA_384', hash: 'sha384' },
  { spec: 'ECC_NIST_P521', algorithm: 'ECDSA_SHA_512', hash: 'sha512' },
  { spec: 'ECC_SECG_P256K1', algorithm: 'ECDSA_SHA_256', hash: 'sha256' },
];

/** node:crypto's verify over the whole message: what a DIGEST signature must equal (same signature semantics). */
function verifyMessage(algorithm: string, hash: string, publicKey: KeyObject, message: Buffer, signature: Buffer): boolean {
  if (algorithm.startsWith('RSASSA_PSS')) {
    return verifyWith(hash, message, { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: createHash(hash).digest().length }, signature);
  }
  return verifyWith(hash, message, { key: publicKey, dsaEncoding: 'der' }, signature);
}

/** FIPS 204 external μ for pure ML-DSA with an empty context: SHAKE256(SHAKE256(pk, 64) || 0x00 || 0x00 || M, 64). */
function externalMu(publicKey: KeyObject, message: Buffer): Buffer {
  const pk = Buffer.from(publicKey.export({ format: 'jwk' }).pub as string, 'base64url');
  const tr = createHash('shake256', { outputLength: 64 }).update(pk).digest();
  return createHash('shake256', { outputLength: 64 }).update(tr).update(Buffer.from([0x00, 0x00])).update(message).digest();
}

let server: TestServer;
let kms: KMSClient;
let scratch: string;
const keys = new Map<string, string>();

before(async () => {
  server = await startTestServer();
  kms = server.kms();
  scratch = mkdtempSync(join(tmpdir(), 'coffer-signing-digest-'));
  await Promise.all(SPECS.map(async (spec) => keys.set(spec, (await createKey(kms, { KeySpec: spec, KeyUsage: 'SIGN_VERIFY' })).KeyId!)));
});
after(async () => {
  rmSync(scratch, { recursive: true, force: true });
  await server.cleanup();
});

async function publicKeyDer(keyId: string): Promise<Buffer> {
  const { PublicKey } = await kms.send(new GetPublicKeyCommand({ KeyId: keyId }));
  return Buffer.from(PublicKey!);
}

async function publicKeyOf(keyId: string): Promise<KeyObject> {
  return createPublicKey({ key: await publicKeyDer(keyId), format: 'der', type: 'spki' });
}

describe('MessageType DIGEST with RSASSA-PSS and ECDSA', () => {
  it('signs a locally computed digest: node:crypto verifies it over the raw message, KMS Verify takes it as DIGEST and RAW', async () => {
    for (const { spec, algorithm, hash } of DIGEST_CASES) {
      const keyId = keys.get(spec)!;
      const publicKey = await publicKeyOf(keyId);
      const message = randomBytes(5000); // over Sign's 4096-byte RAW limit: why clients hash locally
      const digest = createHash(hash).update(message).digest();
      const { Signature, SigningAlgorithm } = await kms.send(new SignCommand({ KeyId: keyId, Message: digest, MessageType: 'DIGEST', SigningAlgorithm: algorithm }));
      assert.equal(SigningAlgorithm, algorithm);
      assert.ok(verifyMessage(algorithm, hash, publicKey, message, Buffer.from(Signature!)), `${spec} ${algorithm}: node:crypto verifies over the message`);

      const asDigest = await kms.send(new VerifyCommand({ KeyId: keyId, Message: digest, MessageType: 'DIGEST', Signature, SigningAlgorithm: algorithm }));
      assert.equal(asDigest.SignatureValid, true);
      const small = message.subarray(0, 4096);
      const smallDigest = createHash(hash).update(small).digest();
      const overDigest = await kms.send(new SignCommand({ KeyId: keyId, Message: smallDigest, MessageType: 'DIGEST', SigningAlgorithm: algorithm }));
      const asRaw = await kms.send(new VerifyCommand({ KeyId: keyId, Message: small, MessageType: 'RAW', Signature: overDigest.Signature, SigningAlgorithm: algorithm }));
      assert.equal(asRaw.SignatureValid, true, `${spec} ${algorithm}: a DIGEST signature verifies over the RAW message`);

      await rejectsWith(
        kms.send(new VerifyCommand({ KeyId: keyId, Message: flipBit(digest, 0), MessageType: 'DIGEST', Signature, SigningAlgorithm: algorithm })),
        'KMSInvalidSignatureException',
      );
      await rejectsWith(
        kms.send(new VerifyCommand({ KeyId: keyId, Message: digest, MessageType: 'DIGEST', Signature: flipBit(Signature!, 8), SigningAlgorithm: algorithm })),
        'KMSInvalidSignatureException',
      );
      await rejectsWith(
        kms.send(new VerifyCommand({ KeyId: keyId, Message: digest, MessageType: 'DIGEST', Signature: randomBytes(7), SigningAlgorithm: algorithm })),
        'KMSInvalidSignatureException',
      );
    }
  });

  it('Verify with MessageType DIGEST accepts the signature node:crypto made over the raw message (Sign RAW)', async () => {
    for (const { spec, algorithm, hash } of DIGEST_CASES) {
      const keyId = keys.get(spec)!;
      const message = randomBytes(300);
      // Sign RAW is node:crypto's sign(hash, message) in the server: the signature of the raw message.
      const { Signature } = await kms.send(new SignCommand({ KeyId: keyId, Message: message, MessageType: 'RAW', SigningAlgorithm: algorithm }));
      assert.ok(verifyMessage(algorithm, hash, await publicKeyOf(keyId), message, Buffer.from(Signature!)));
      const digest = createHash(hash).update(message).digest();
      const verified = await kms.send(new VerifyCommand({ KeyId: keyId, Message: digest, MessageType: 'DIGEST', Signature, SigningAlgorithm: algorithm }));
      assert.equal(verified.SignatureValid, true, `${spec} ${algorithm}`);
    }
  });

  it('produces DIGEST signatures the openssl command verifies (dgst over the message; pkeyutl over a SHA3 digest for secp256k1)', async () => {
    const message = Buffer.from('a message hashed by the client\n');
    writeFileSync(join(scratch, 'message'), message);
    const cases: Array<{ spec: KeySpec; algorithm: SigningAlgorithmSpec; digest: Buffer; command: string }> = [
      {
        spec: 'RSA_2048',
        algorithm: 'RSASSA_PSS_SHA_384',
        digest: createHash('sha384').update(message).digest(),
        command: 'openssl dgst -sha384 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:48 -verify pub.pem -signature sig message',
      },
      { spec: 'ECC_NIST_P384', algorithm: 'ECDSA_SHA_384', digest: createHash('sha384').update(message).digest(), command: 'openssl dgst -sha384 -verify pub.pem -signature sig message' },
      { spec: 'ECC_NIST_P521', algorithm: 'ECDSA_SHA_512', digest: createHash('sha512').update(message).digest(), command: 'openssl dgst -sha512 -verify pub.pem -signature sig message' },
      // A 32-byte digest KMS never computed (as a keccak digest for secp256k1): openssl checks the raw digest.
      { spec: 'ECC_SECG_P256K1', algorithm: 'ECDSA_SHA_256', digest: createHash('sha3-256').update(message).digest(), command: 'openssl pkeyutl -verify -pubin -inkey pub.pem -in digest -sigfile sig' },
    ];
    for (const { spec, algorithm, digest, command } of cases) {
      const keyId = keys.get(spec)!;
      const { Signature } = await kms.send(new SignCommand({ KeyId: keyId, Message: digest, MessageType: 'DIGEST', SigningAlgorithm: algorithm }));
      writeFileSync(join(scratch, 'digest'), digest);
      await assertOpensslVerifies(scratch, await publicKeyDer(keyId), Signature!, command, `${spec} ${algorithm}`);
    }
  });

  it('the AWS CLI signs a secp256k1 digest (fileb://, --message-type DIGEST)', async () => {
    const keyId = keys.get('ECC_SECG_P256K1')!;
    const message = Buffer.from('signed through the AWS CLI\n');
    writeFileSync(join(scratch, 'cli-digest'), createHash('sha256').update(message).digest());
    const output = await shellOk(
      `aws kms sign --endpoint-url ${server.url} --key-id ${keyId} --message fileb://cli-digest --message-type DIGEST --signing-algorithm ECDSA_SHA_256 --output json`,
      { cwd: scratch, credentials: server.admin, region: 'us-east-1' },
    );
    const signed = JSON.parse(output) as { Signature: string; SigningAlgorithm: string };
    assert.equal(signed.SigningAlgorithm, 'ECDSA_SHA_256');
    assert.ok(verifyMessage('ECDSA_SHA_256', 'sha256', await publicKeyOf(keyId), message, Buffer.from(signed.Signature, 'base64')));
  });
});

describe('ED25519_PH_SHA_512 (Ed25519ph over a SHA-512 digest)', () => {
  it('signs the SHA-512 digest; the addon and KMS Verify accept it; another digest, a flipped bit or pure Ed25519 do not', async () => {
    const keyId = keys.get('ECC_NIST_EDWARDS25519')!;
    const spki = await publicKeyDer(keyId);
    const message = randomBytes(10_000);
    const digest = createHash('sha512').update(message).digest();
    const { Signature, SigningAlgorithm } = await kms.send(new SignCommand({ KeyId: keyId, Message: digest, MessageType: 'DIGEST', SigningAlgorithm: 'ED25519_PH_SHA_512' }));
    assert.equal(SigningAlgorithm, 'ED25519_PH_SHA_512');
    assert.equal(Signature!.length, 64);
    const { signer } = loadDigestSigner();
    assert.ok(signer);
    assert.equal(signer.verifyDigest(spki, digest, Buffer.from(Signature!), { scheme: 'ed25519ph' }), true);
    assert.equal(signer.verifyDigest(spki, flipBit(digest, 1), Buffer.from(Signature!), { scheme: 'ed25519ph' }), false);
    // Ed25519ph is deterministic (RFC 8032): the same digest, the same signature.
    const again = await kms.send(new SignCommand({ KeyId: keyId, Message: digest, MessageType: 'DIGEST', SigningAlgorithm: 'ED25519_PH_SHA_512' }));
    assert.deepEqual(Buffer.from(again.Signature!), Buffer.from(Signature!));
    // Not a pure Ed25519 signature of the digest or of the message (the ph instance is domain-separated).
    const publicKey = createPublicKey({ key: spki, format: 'der', type: 'spki' });
    assert.equal(verifyWith(null, digest, publicKey, Signature!), false);
    assert.equal(verifyWith(null, message, publicKey, Signature!), false);

    const verified = await kms.send(new VerifyCommand({ KeyId: keyId, Message: digest, MessageType: 'DIGEST', Signature, SigningAlgorithm: 'ED25519_PH_SHA_512' }));
    assert.equal(verified.SignatureValid, true);
    await rejectsWith(
      kms.send(new VerifyCommand({ KeyId: keyId, Message: flipBit(digest, 5), MessageType: 'DIGEST', Signature, SigningAlgorithm: 'ED25519_PH_SHA_512' })),
      'KMSInvalidSignatureException',
    );
    const pure = await kms.send(new SignCommand({ KeyId: keyId, Message: digest, MessageType: 'RAW', SigningAlgorithm: 'ED25519_SHA_512' }));
    await rejectsWith(
      kms.send(new VerifyCommand({ KeyId: keyId, Message: digest, MessageType: 'DIGEST', Signature: pure.Signature, SigningAlgorithm: 'ED25519_PH_SHA_512' })),
      'KMSInvalidSignatureException',
    );
  });
});

describe('ML_DSA_SHAKE_256 with MessageType EXTERNAL_MU', () => {
  it('signs μ computed from the public key (FIPS 204): node:crypto verifies the signature over the message, and KMS agrees both ways', async () => {
    for (const spec of ['ML_DSA_44', 'ML_DSA_87'] as const) {
      const keyId = keys.get(spec)!;
      const publicKey = await publicKeyOf(keyId);
      const message = randomBytes(3000);
      const mu = externalMu(publicKey, message);
      const { Signature } = await kms.send(new SignCommand({ KeyId: keyId, Message: mu, MessageType: 'EXTERNAL_MU', SigningAlgorithm: 'ML_DSA_SHAKE_256' }));
      assert.equal(verifyWith(null, message, publicKey, Signature!), true, `${spec}: pure ML-DSA verify over M accepts the external-μ signature`);
      assert.equal(verifyWith(null, flipBit(message, 0), publicKey, Signature!), false);

      const asRaw = await kms.send(new VerifyCommand({ KeyId: keyId, Message: message, MessageType: 'RAW', Signature, SigningAlgorithm: 'ML_DSA_SHAKE_256' }));
      assert.equal(asRaw.SignatureValid, true);
      const rawSigned = await kms.send(new SignCommand({ KeyId: keyId, Message: message, MessageType: 'RAW', SigningAlgorithm: 'ML_DSA_SHAKE_256' }));
      const asMu = await kms.send(new VerifyCommand({ KeyId: keyId, Message: mu, MessageType: 'EXTERNAL_MU', Signature: rawSigned.Signature, SigningAlgorithm: 'ML_DSA_SHAKE_256' }));
      assert.equal(asMu.SignatureValid, true, `${spec}: a RAW signature verifies against its μ`);
      await rejectsWith(
        kms.send(new VerifyCommand({ KeyId: keyId, Message: flipBit(mu, 63), MessageType: 'EXTERNAL_MU', Signature, SigningAlgorithm: 'ML_DSA_SHAKE_256' })),
        'KMSInvalidSignatureException',
      );
    }
  });
});

describe('without the addon', () => {
  it('the server starts, logs once why, and refuses what needs the addon with UnsupportedOperationException; the rest still signs', async () => {
    const warnings: Array<{ message: string; fields?: Record<string, unknown> }> = [];
    const logger: Logger = { debug() {}, info() {}, error() {}, warn: (message, fields) => warnings.push({ message, fields }) };
    const bare = await startTestServer({ kmsDigestAddon: join(scratch, 'missing', 'kms_digest.node'), logger });
    try {
      const client = bare.kms();
      const ids = new Map<string, string>();
      for (const spec of ['RSA_2048', 'ECC_SECG_P256K1', 'ECC_NIST_EDWARDS25519', 'ML_DSA_44'] as const) {
        ids.set(spec, (await createKey(client, { KeySpec: spec, KeyUsage: 'SIGN_VERIFY' })).KeyId!);
      }
      const refused: Array<[string, SigningAlgorithmSpec, 'DIGEST' | 'EXTERNAL_MU', number]> = [
        ['ECC_SECG_P256K1', 'ECDSA_SHA_256', 'DIGEST', 32],
        ['RSA_2048', 'RSASSA_PSS_SHA_256', 'DIGEST', 32],
        ['ECC_NIST_EDWARDS25519', 'ED25519_PH_SHA_512', 'DIGEST', 64],
        ['ML_DSA_44', 'ML_DSA_SHAKE_256', 'EXTERNAL_MU', 64],
      ];
      for (const [spec, algorithm, messageType, length] of refused) {
        const error = await rejectsWith(
          client.send(new SignCommand({ KeyId: ids.get(spec)!, Message: randomBytes(length), MessageType: messageType, SigningAlgorithm: algorithm })),
          'UnsupportedOperationException',
        );
        assert.match(error.message, new RegExp(`${messageType} with the ${algorithm} signing algorithm is not supported`));
        await rejectsWith(
          client.send(new VerifyCommand({ KeyId: ids.get(spec)!, Message: randomBytes(length), MessageType: messageType, Signature: randomBytes(64), SigningAlgorithm: algorithm })),
          'UnsupportedOperationException',
        );
      }
      // AWS's validation still comes first.
      await rejectsWith(
        client.send(new SignCommand({ KeyId: ids.get('RSA_2048')!, Message: randomBytes(31), MessageType: 'DIGEST', SigningAlgorithm: 'RSASSA_PSS_SHA_256' })),
        'ValidationException',
      );
      const raw = await client.send(new SignCommand({ KeyId: ids.get('ECC_SECG_P256K1')!, Message: Buffer.from('m'), MessageType: 'RAW', SigningAlgorithm: 'ECDSA_SHA_256' }));
      assert.ok(raw.Signature);
      const pkcs1 = await client.send(
        new SignCommand({ KeyId: ids.get('RSA_2048')!, Message: createHash('sha256').update('m').digest(), MessageType: 'DIGEST', SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256' }),
      );
      assert.ok(pkcs1.Signature);
      const digestWarnings = warnings.filter((warning) => /precomputed digests/.test(warning.message));
      assert.equal(digestWarnings.length, 1);
      assert.match(String(digestWarnings[0]!.fields?.reason), /could not be loaded|was not found/);
    } finally {
      await bare.cleanup();
    }
  });
});
