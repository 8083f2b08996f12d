import assert from 'node:assert/strict';
import { constants, createPublicKey, publicEncrypt, randomBytes, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  DecryptCommand,
  DisableKeyCommand,
  EncryptCommand,
  GetPublicKeyCommand,
  ReEncryptCommand,
  type EncryptionAlgorithmSpec,
  type KeyMetadata,
  type KMSClient,
} from '@aws-sdk/client-kms';
import { BLOB_FORMAT_VERSION, MULTI_REGION_BLOB_FORMAT_VERSION } from '../../../src/crypto/ciphertext-blob.js';
import { auditEvents } from '../../helpers/audit.js';
import { shellOk } from '../../helpers/aws-cli.js';
import { createKey, rejectsWith } from '../../helpers/kms.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

let server: TestServer;
let kms: KMSClient;
let symmetric: KeyMetadata;
const rsaKeys = new Map<string, KeyMetadata>();
const publicKeys = new Map<string, KeyObject>();

/** AWS's Encrypt reference: the largest plaintext per key spec and algorithm. */
const LIMITS = [
  { spec: 'RSA_2048', algorithm: 'RSAES_OAEP_SHA_1', max: 214, bytes: 256 },
  { spec: 'RSA_2048', algorithm: 'RSAES_OAEP_SHA_256', max: 190, bytes: 256 },
  { spec: 'RSA_3072', algorithm: 'RSAES_OAEP_SHA_1', max: 342, bytes: 384 },
  { spec: 'RSA_3072', algorithm: 'RSAES_OAEP_SHA_256', max: 318, bytes: 384 },
  { spec: 'RSA_4096', algorithm: 'RSAES_OAEP_SHA_1', max: 470, bytes: 512 },
  { spec: 'RSA_4096', algorithm: 'RSAES_OAEP_SHA_256', max: 446, bytes: 512 },
] as const;

const OAEP_HASH = { RSAES_OAEP_SHA_1: 'sha1', RSAES_OAEP_SHA_256: 'sha256' } as const;

before(async () => {
  server = await startTestServer();
  kms = server.kms();
  symmetric = await createKey(kms, { Description: 'symmetric' });
  for (const spec of ['RSA_2048', 'RSA_3072', 'RSA_4096']) {
    const key = await createKey(kms, { KeySpec: spec as 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT', Description: spec });
    rsaKeys.set(spec, key);
    const { PublicKey } = await kms.send(new GetPublicKeyCommand({ KeyId: key.KeyId }));
    publicKeys.set(spec, createPublicKey({ key: Buffer.from(PublicKey!), format: 'der', type: 'spki' }));
  }
});
after(async () => server.cleanup());

function rsaKey(spec = 'RSA_2048'): KeyMetadata {
  return rsaKeys.get(spec)!;
}

/** RSAES-OAEP outside KMS, with only the public key GetPublicKey gave. */
function encryptOffline(spec: string, algorithm: keyof typeof OAEP_HASH, plaintext: Buffer): Buffer {
  return publicEncrypt({ key: publicKeys.get(spec)!, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: OAEP_HASH[algorithm] }, plaintext);
}

async function decrypt(keyId: string, ciphertext: Uint8Array, algorithm?: EncryptionAlgorithmSpec): Promise<Buffer> {
  const { Plaintext } = await kms.send(new DecryptCommand({ KeyId: keyId, CiphertextBlob: ciphertext, EncryptionAlgorithm: algorithm }));
  return Buffer.from(Plaintext!);
}

function flipped(bytes: Uint8Array, offset: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[offset] = copy[offset]! ^ 0x01;
  return copy;
}

describe('Encrypt and Decrypt with RSA keys', () => {
  for (const { spec, algorithm, max, bytes } of LIMITS) {
    it(`${spec} ${algorithm}: up to ${max} bytes, encrypted offline or in Coffer, decrypt in Coffer`, async () => {
      const key = rsaKey(spec);
      const plaintext = randomBytes(max);
      assert.deepEqual(await decrypt(key.KeyId!, encryptOffline(spec, algorithm, plaintext), algorithm), plaintext, 'offline ciphertext');

      const encrypted = await kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: plaintext, EncryptionAlgorithm: algorithm }));
      assert.equal(encrypted.KeyId, key.Arn);
      assert.equal(encrypted.EncryptionAlgorithm, algorithm);
      assert.equal(encrypted.CiphertextBlob!.length, bytes, 'a raw RSA ciphertext, as long as the modulus');
      const decrypted = await kms.send(new DecryptCommand({ KeyId: key.Arn, CiphertextBlob: encrypted.CiphertextBlob, EncryptionAlgorithm: algorithm }));
      assert.deepEqual(Buffer.from(decrypted.Plaintext!), plaintext);
      assert.equal(decrypted.KeyId, key.Arn);
      assert.equal(decrypted.EncryptionAlgorithm, algorithm);

      const error = await rejectsWith(
        kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: randomBytes(max + 1), EncryptionAlgorithm: algorithm })),
        'ValidationException',
      );
      assert.equal(error.message, `Algorithm ${algorithm} and key spec ${spec} cannot encrypt data larger than ${max} bytes.`);
    });
  }

  it('encrypting the same plaintext twice gives two ciphertexts (OAEP is randomized)', async () => {
    const plaintext = Buffer.from('same plaintext');
    const encrypt = () => kms.send(new EncryptCommand({ KeyId: rsaKey().KeyId, Plaintext: plaintext, EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' }));
    const [first, second] = await Promise.all([encrypt(), encrypt()]);
    assert.notDeepEqual(Buffer.from(first.CiphertextBlob!), Buffer.from(second.CiphertextBlob!));
    assert.deepEqual(await decrypt(rsaKey().KeyId!, first.CiphertextBlob!, 'RSAES_OAEP_SHA_256'), plaintext);
    assert.deepEqual(await decrypt(rsaKey().KeyId!, second.CiphertextBlob!, 'RSAES_OAEP_SHA_256'), plaintext);
  });

  it('Decrypt needs the KeyId, the algorithm and the key that encrypted; altered bytes do not decrypt', async () => {
    const plaintext = Buffer.from('needs its key');
    // Without a KeyId a ciphertext is read as Coffer's symmetric blob. A raw RSA ciphertext whose first byte happens
    // to be a blob format version (2 in 256: single- or multi-Region) names a random key id, answered like any blob
    // naming a missing key (NotFoundException); every other one is not a blob at all. This test takes one of the others.
    let ciphertext = encryptOffline('RSA_2048', 'RSAES_OAEP_SHA_256', plaintext);
    while (blobLike(ciphertext)) ciphertext = encryptOffline('RSA_2048', 'RSAES_OAEP_SHA_256', plaintext);
    await rejectsWith(kms.send(new DecryptCommand({ CiphertextBlob: ciphertext, EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' })), 'InvalidCiphertextException');
    const missing = await rejectsWith(kms.send(new DecryptCommand({ KeyId: rsaKey().KeyId, CiphertextBlob: ciphertext })), 'InvalidKeyUsageException');
    assert.equal(missing.message, 'Algorithm SYMMETRIC_DEFAULT is incompatible with key spec RSA_2048.');
    await rejectsWith(decrypt(rsaKey().KeyId!, ciphertext, 'RSAES_OAEP_SHA_1'), 'InvalidCiphertextException');
    const other = await createKey(kms, { KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT' });
    await rejectsWith(decrypt(other.KeyId!, ciphertext, 'RSAES_OAEP_SHA_256'), 'InvalidCiphertextException');
    await rejectsWith(decrypt(rsaKey().KeyId!, flipped(ciphertext, 100), 'RSAES_OAEP_SHA_256'), 'InvalidCiphertextException');
    await rejectsWith(decrypt(rsaKey().KeyId!, ciphertext.subarray(1), 'RSAES_OAEP_SHA_256'), 'InvalidCiphertextException');
    await rejectsWith(decrypt(rsaKey('RSA_3072').KeyId!, ciphertext, 'RSAES_OAEP_SHA_256'), 'InvalidCiphertextException');
    assert.deepEqual(await decrypt(rsaKey().KeyId!, ciphertext, 'RSAES_OAEP_SHA_256'), plaintext);
  });

  it('Encrypt with an RSA key needs an RSA algorithm and takes no encryption context', async () => {
    const key = rsaKey();
    const missing = await rejectsWith(kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') })), 'InvalidKeyUsageException');
    assert.equal(missing.message, 'Algorithm SYMMETRIC_DEFAULT is incompatible with key spec RSA_2048.');
    await rejectsWith(
      kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x'), EncryptionAlgorithm: 'SM2PKE' })),
      'InvalidKeyUsageException',
    );
    await rejectsWith(
      kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x'), EncryptionAlgorithm: 'RSAES_OAEP_SHA_256', EncryptionContext: { a: 'b' } })),
      'ValidationException',
    );
    await rejectsWith(
      kms.send(
        new DecryptCommand({
          KeyId: key.KeyId,
          CiphertextBlob: encryptOffline('RSA_2048', 'RSAES_OAEP_SHA_256', Buffer.from('x')),
          EncryptionAlgorithm: 'RSAES_OAEP_SHA_256',
          EncryptionContext: { a: 'b' },
        }),
      ),
      'ValidationException',
    );
    // A symmetric key takes no RSA algorithm.
    const symmetricError = await rejectsWith(
      kms.send(new EncryptCommand({ KeyId: symmetric.KeyId, Plaintext: Buffer.from('x'), EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' })),
      'InvalidKeyUsageException',
    );
    assert.equal(symmetricError.message, 'Algorithm RSAES_OAEP_SHA_256 is incompatible with key spec SYMMETRIC_DEFAULT.');
  });

  it('an RSA signing key cannot encrypt; a disabled RSA key neither encrypts nor decrypts; DryRun stops after the checks', async () => {
    const signing = await createKey(kms, { KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' });
    const error = await rejectsWith(
      kms.send(new EncryptCommand({ KeyId: signing.KeyId, Plaintext: Buffer.from('x'), EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' })),
      'InvalidKeyUsageException',
    );
    assert.equal(error.message, `${signing.Arn} key usage is SIGN_VERIFY which is not valid for Encrypt.`);

    const key = await createKey(kms, { KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT' });
    await rejectsWith(
      kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.alloc(191), EncryptionAlgorithm: 'RSAES_OAEP_SHA_256', DryRun: true })),
      'ValidationException',
    );
    await rejectsWith(
      kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.alloc(190), EncryptionAlgorithm: 'RSAES_OAEP_SHA_256', DryRun: true })),
      'DryRunOperationException',
      412,
    );
    const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x'), EncryptionAlgorithm: 'RSAES_OAEP_SHA_1' }));
    await kms.send(new DisableKeyCommand({ KeyId: key.KeyId }));
    await rejectsWith(
      kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x'), EncryptionAlgorithm: 'RSAES_OAEP_SHA_1' })),
      'DisabledException',
    );
    await rejectsWith(decrypt(key.KeyId!, CiphertextBlob!, 'RSAES_OAEP_SHA_1'), 'DisabledException');
  });

  it('the audit events of Encrypt and Decrypt keep neither plaintext nor ciphertext', async () => {
    const plaintext = Buffer.from('a secret for the RSA key');
    const encrypted = await kms.send(new EncryptCommand({ KeyId: rsaKey().KeyId, Plaintext: plaintext, EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' }));
    const decrypted = await kms.send(
      new DecryptCommand({ KeyId: rsaKey().KeyId, CiphertextBlob: encrypted.CiphertextBlob, EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' }),
    );
    const events = auditEvents(server.dataDir).filter((event) => [encrypted.$metadata.requestId, decrypted.$metadata.requestId].includes(event.requestID));
    assert.equal(events.length, 2);
    const text = JSON.stringify(events);
    assert.ok(!text.includes(plaintext.toString('base64')) && !text.includes('a secret for'), 'no plaintext');
    assert.ok(!text.includes(Buffer.from(encrypted.CiphertextBlob!).toString('base64')), 'no ciphertext');
  });
});

describe('ReEncrypt with RSA keys', () => {
  it('symmetric → RSA, RSA → RSA and RSA → symmetric', async () => {
    const plaintext = Buffer.from('moving between keys');
    const { CiphertextBlob: symmetricBlob } = await kms.send(
      new EncryptCommand({ KeyId: symmetric.KeyId, Plaintext: plaintext, EncryptionContext: { step: '1' } }),
    );

    const toRsa = await kms.send(
      new ReEncryptCommand({
        CiphertextBlob: symmetricBlob,
        SourceEncryptionContext: { step: '1' },
        DestinationKeyId: rsaKey().KeyId,
        DestinationEncryptionAlgorithm: 'RSAES_OAEP_SHA_256',
      }),
    );
    assert.equal(toRsa.SourceKeyId, symmetric.Arn);
    assert.equal(toRsa.KeyId, rsaKey().Arn);
    assert.equal(toRsa.SourceEncryptionAlgorithm, 'SYMMETRIC_DEFAULT');
    assert.equal(toRsa.DestinationEncryptionAlgorithm, 'RSAES_OAEP_SHA_256');
    assert.equal(toRsa.CiphertextBlob!.length, 256);
    assert.deepEqual(await decrypt(rsaKey().KeyId!, toRsa.CiphertextBlob!, 'RSAES_OAEP_SHA_256'), plaintext);

    const rsaToRsa = await kms.send(
      new ReEncryptCommand({
        CiphertextBlob: toRsa.CiphertextBlob,
        SourceKeyId: rsaKey().KeyId,
        SourceEncryptionAlgorithm: 'RSAES_OAEP_SHA_256',
        DestinationKeyId: rsaKey('RSA_3072').KeyId,
        DestinationEncryptionAlgorithm: 'RSAES_OAEP_SHA_1',
      }),
    );
    assert.equal(rsaToRsa.SourceEncryptionAlgorithm, 'RSAES_OAEP_SHA_256');
    assert.equal(rsaToRsa.DestinationEncryptionAlgorithm, 'RSAES_OAEP_SHA_1');
    assert.equal(rsaToRsa.CiphertextBlob!.length, 384);

    const back = await kms.send(
      new ReEncryptCommand({
        CiphertextBlob: rsaToRsa.CiphertextBlob,
        SourceKeyId: rsaKey('RSA_3072').Arn,
        SourceEncryptionAlgorithm: 'RSAES_OAEP_SHA_1',
        DestinationKeyId: symmetric.KeyId,
        DestinationEncryptionContext: { step: '3' },
      }),
    );
    assert.equal(back.SourceKeyId, rsaKey('RSA_3072').Arn);
    assert.equal(back.DestinationEncryptionAlgorithm, 'SYMMETRIC_DEFAULT');
    const { Plaintext } = await kms.send(new DecryptCommand({ CiphertextBlob: back.CiphertextBlob, EncryptionContext: { step: '3' } }));
    assert.deepEqual(Buffer.from(Plaintext!), plaintext);
  });

  it('refuses an RSA source without SourceKeyId, a context with an RSA key, and a plaintext too long for the destination', async () => {
    let ciphertext = encryptOffline('RSA_2048', 'RSAES_OAEP_SHA_1', Buffer.from('x'));
    while (blobLike(ciphertext)) ciphertext = encryptOffline('RSA_2048', 'RSAES_OAEP_SHA_1', Buffer.from('x')); // see above
    await rejectsWith(
      kms.send(new ReEncryptCommand({ CiphertextBlob: ciphertext, SourceEncryptionAlgorithm: 'RSAES_OAEP_SHA_1', DestinationKeyId: symmetric.KeyId })),
      'InvalidCiphertextException',
    );
    await rejectsWith(
      kms.send(
        new ReEncryptCommand({
          CiphertextBlob: ciphertext,
          SourceKeyId: rsaKey().KeyId,
          SourceEncryptionAlgorithm: 'RSAES_OAEP_SHA_1',
          DestinationKeyId: rsaKey('RSA_3072').KeyId,
          DestinationEncryptionAlgorithm: 'RSAES_OAEP_SHA_1',
          DestinationEncryptionContext: { not: 'allowed' },
        }),
      ),
      'ValidationException',
    );
    const { CiphertextBlob: long } = await kms.send(new EncryptCommand({ KeyId: symmetric.KeyId, Plaintext: randomBytes(300) }));
    const error = await rejectsWith(
      kms.send(new ReEncryptCommand({ CiphertextBlob: long, DestinationKeyId: rsaKey().KeyId, DestinationEncryptionAlgorithm: 'RSAES_OAEP_SHA_256' })),
      'ValidationException',
    );
    assert.equal(error.message, 'Algorithm RSAES_OAEP_SHA_256 and key spec RSA_2048 cannot encrypt data larger than 190 bytes.');
  });
});

describe('tools outside Coffer', () => {
  it('openssl pkeyutl encrypts with the public key (OAEP, SHA-256), aws kms decrypt opens it', async () => {
    const workDir = mkdtempSync(join(tmpdir(), 'coffer-kms-rsa-'));
    const run = (command: string) => shellOk(command, { cwd: workDir, credentials: server.admin, region: 'us-east-1', env: { COFFER_URL: server.url } });
    try {
      const key = rsaKey('RSA_4096');
      const { PublicKey } = await kms.send(new GetPublicKeyCommand({ KeyId: key.KeyId }));
      writeFileSync(join(workDir, 'public.der'), PublicKey!);
      writeFileSync(join(workDir, 'message.txt'), 'encrypted by openssl, decrypted by Coffer');
      await run(`openssl pkeyutl -encrypt -pubin -keyform DER -inkey public.der -in message.txt -out message.enc \\
  -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256`);
      const decrypted = JSON.parse(
        await run(`aws kms decrypt --key-id ${key.KeyId} --ciphertext-blob fileb://message.enc \\
  --encryption-algorithm RSAES_OAEP_SHA_256 --endpoint-url "$COFFER_URL"`),
      ) as { Plaintext: string; KeyId: string; EncryptionAlgorithm: string };
      assert.equal(Buffer.from(decrypted.Plaintext, 'base64').toString(), 'encrypted by openssl, decrypted by Coffer');
      assert.equal(decrypted.KeyId, key.Arn);
      assert.equal(decrypted.EncryptionAlgorithm, 'RSAES_OAEP_SHA_256');

      // openssl's OAEP defaults (SHA-1 for the hash and MGF1) are RSAES_OAEP_SHA_1.
      await run('openssl pkeyutl -encrypt -pubin -keyform DER -inkey public.der -in message.txt -out message-sha1.enc -pkeyopt rsa_padding_mode:oaep');
      const sha1 = await kms.send(
        new DecryptCommand({
          KeyId: key.KeyId,
          CiphertextBlob: Buffer.from(await run('od -An -v -tx1 message-sha1.enc | tr -d " \\n"'), 'hex'),
          EncryptionAlgorithm: 'RSAES_OAEP_SHA_1',
        }),
      );
      assert.equal(Buffer.from(sha1.Plaintext!).toString(), 'encrypted by openssl, decrypted by Coffer');
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
  });
});

/** Whether bytes start as Coffer's symmetric ciphertext blobs do (either format version): read as one without a KeyId. */
function blobLike(ciphertext: Buffer): boolean {
  return ciphertext[0] === BLOB_FORMAT_VERSION || ciphertext[0] === MULTI_REGION_BLOB_FORMAT_VERSION;
}
