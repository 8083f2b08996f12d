import assert from 'node:assert/strict';
import { createPublicKey, diffieHellman, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  DeriveSharedSecretCommand,
  DisableKeyCommand,
  GetPublicKeyCommand,
  type KeyAgreementAlgorithmSpec,
  type KeyMetadata,
  type KMSClient,
} from '@aws-sdk/client-kms';
import { auditEvents } from '../../helpers/audit.js';
import { shellOk } from '../../helpers/aws-cli.js';
import { createKey, rejectsWith } from '../../helpers/kms.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

let server: TestServer;
let kms: KMSClient;
const agreementKeys = new Map<string, KeyMetadata>();

/** The NIST curves AWS offers for KEY_AGREEMENT, node:crypto's name for each, and the shared secret's length. */
const CURVES = [
  { spec: 'ECC_NIST_P256', curve: 'prime256v1', bytes: 32 },
  { spec: 'ECC_NIST_P384', curve: 'secp384r1', bytes: 48 },
  { spec: 'ECC_NIST_P521', curve: 'secp521r1', bytes: 66 },
] as const;

before(async () => {
  server = await startTestServer();
  kms = server.kms();
  for (const { spec } of CURVES) {
    agreementKeys.set(spec, await createKey(kms, { KeySpec: spec, KeyUsage: 'KEY_AGREEMENT', Description: spec }));
  }
});
after(async () => server.cleanup());

function agreementKey(spec: string): KeyMetadata {
  return agreementKeys.get(spec)!;
}

async function publicKeyOf(keyId: string): Promise<KeyObject> {
  const { PublicKey } = await kms.send(new GetPublicKeyCommand({ KeyId: keyId }));
  return createPublicKey({ key: Buffer.from(PublicKey!), format: 'der', type: 'spki' });
}

function peer(curve: string) {
  const pair = generateKeyPairSync('ec', { namedCurve: curve });
  return { ...pair, der: pair.publicKey.export({ type: 'spki', format: 'der' }) };
}

async function derive(keyId: string, publicKey: Uint8Array): Promise<Buffer> {
  const result = await kms.send(new DeriveSharedSecretCommand({ KeyId: keyId, KeyAgreementAlgorithm: 'ECDH', PublicKey: publicKey }));
  return Buffer.from(result.SharedSecret!);
}

describe('DeriveSharedSecret', () => {
  for (const { spec, curve, bytes } of CURVES) {
    it(`${spec}: KMS and a peer outside it derive the same raw ECDH secret`, async () => {
      const key = agreementKey(spec);
      const local = peer(curve);
      const result = await kms.send(new DeriveSharedSecretCommand({ KeyId: key.KeyId, KeyAgreementAlgorithm: 'ECDH', PublicKey: local.der }));
      assert.equal(result.KeyId, key.Arn);
      assert.equal(result.KeyAgreementAlgorithm, 'ECDH');
      assert.equal(result.KeyOrigin, 'AWS_KMS');
      assert.equal(result.SharedSecret!.length, bytes, 'the x-coordinate, as long as the field');

      const expected = diffieHellman({ privateKey: local.privateKey, publicKey: await publicKeyOf(key.KeyId!) });
      assert.deepEqual(Buffer.from(result.SharedSecret!), expected);
    });
  }

  it('two KMS keys agree on one secret; another peer gives another secret', async () => {
    const other = await createKey(kms, { KeySpec: 'ECC_NIST_P256', KeyUsage: 'KEY_AGREEMENT' });
    const mine = agreementKey('ECC_NIST_P256');
    const myPublic = (await kms.send(new GetPublicKeyCommand({ KeyId: mine.KeyId }))).PublicKey!;
    const theirPublic = (await kms.send(new GetPublicKeyCommand({ KeyId: other.KeyId }))).PublicKey!;
    const first = await derive(mine.Arn!, theirPublic);
    assert.deepEqual(await derive(other.KeyId!, myPublic), first);
    assert.deepEqual(await derive(mine.KeyId!, theirPublic), first, 'the same pair always gives the same secret');
    assert.notDeepEqual(await derive(mine.KeyId!, peer('prime256v1').der), first);
  });

  it('openssl pkeyutl -derive with the KMS public key gives the secret KMS derives', async () => {
    const workDir = mkdtempSync(join(tmpdir(), 'coffer-kms-ecdh-'));
    const run = (command: string) => shellOk(command, { cwd: workDir, credentials: server.admin, region: 'us-east-1', env: { COFFER_URL: server.url } });
    try {
      const key = agreementKey('ECC_NIST_P384');
      const local = peer('secp384r1');
      writeFileSync(join(workDir, 'peer-private.pem'), local.privateKey.export({ type: 'pkcs8', format: 'pem' }));
      writeFileSync(join(workDir, 'peer-public.der'), local.der);
      const kmsPublic = (await kms.send(new GetPublicKeyCommand({ KeyId: key.KeyId }))).PublicKey!;
      writeFileSync(join(workDir, 'kms-public.der'), kmsPublic);
      await run('openssl pkey -pubin -inform DER -in kms-public.der -out kms-public.pem');
      await run('openssl pkeyutl -derive -inkey peer-private.pem -peerkey kms-public.pem -out openssl-secret.bin');
      const opensslSecret = Buffer.from(await run('od -An -v -tx1 openssl-secret.bin | tr -d " \\n"'), 'hex');

      // The AWS CLI (v1) takes the peer's public key as a file of DER bytes.
      const cli = JSON.parse(
        await run(`aws kms derive-shared-secret --key-id ${key.KeyId} --key-agreement-algorithm ECDH \\
  --public-key fileb://peer-public.der --endpoint-url "$COFFER_URL"`),
      ) as { SharedSecret: string; KeyId: string; KeyAgreementAlgorithm: string; KeyOrigin: string };
      assert.equal(cli.KeyId, key.Arn);
      assert.equal(cli.KeyAgreementAlgorithm, 'ECDH');
      assert.equal(cli.KeyOrigin, 'AWS_KMS');
      assert.equal(opensslSecret.length, 48);
      assert.deepEqual(Buffer.from(cli.SharedSecret, 'base64'), opensslSecret);
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
  });
});

describe('refusals', () => {
  it('a peer key on another curve, of another type, or not DER at all is a ValidationException', async () => {
    const key = agreementKey('ECC_NIST_P256').KeyId!;
    await rejectsWith(derive(key, peer('secp384r1').der), 'ValidationException');
    await rejectsWith(derive(key, peer('secp256k1').der), 'ValidationException');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'der' });
    await rejectsWith(derive(key, rsa), 'ValidationException');
    const x25519 = generateKeyPairSync('x25519').publicKey.export({ type: 'spki', format: 'der' });
    await rejectsWith(derive(key, x25519), 'ValidationException');
    await rejectsWith(derive(key, Buffer.from('InvalidPublicKey')), 'ValidationException');
    // A point that is not on the curve: the DER of a real key with the last coordinate byte changed.
    const tampered = Buffer.from(peer('prime256v1').der);
    tampered[tampered.length - 1] = tampered[tampered.length - 1]! ^ 0x01;
    await rejectsWith(derive(key, tampered), 'ValidationException');
  });

  it('keys of another usage are refused with InvalidKeyUsageException, in AWS words', async () => {
    const signing = await createKey(kms, { KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
    const error = await rejectsWith(derive(signing.KeyId!, peer('prime256v1').der), 'InvalidKeyUsageException');
    assert.equal(error.message, `${signing.Arn} key usage is SIGN_VERIFY which is not valid for DeriveSharedSecret.`);
    const symmetric = await createKey(kms);
    const symmetricError = await rejectsWith(derive(symmetric.KeyId!, peer('prime256v1').der), 'InvalidKeyUsageException');
    assert.equal(symmetricError.message, `${symmetric.Arn} key usage is ENCRYPT_DECRYPT which is not valid for DeriveSharedSecret.`);
  });

  it('an unknown algorithm is a ValidationException; Recipient is refused; DryRun stops after the checks', async () => {
    const key = agreementKey('ECC_NIST_P256').KeyId!;
    await rejectsWith(
      kms.send(new DeriveSharedSecretCommand({ KeyId: key, KeyAgreementAlgorithm: 'INVALID' as KeyAgreementAlgorithmSpec, PublicKey: peer('prime256v1').der })),
      'ValidationException',
    );
    await rejectsWith(
      kms.send(
        new DeriveSharedSecretCommand({
          KeyId: key,
          KeyAgreementAlgorithm: 'ECDH',
          PublicKey: peer('prime256v1').der,
          Recipient: { KeyEncryptionAlgorithm: 'RSAES_OAEP_SHA_256', AttestationDocument: Buffer.from('attestation') },
        }),
      ),
      'UnsupportedOperationException',
    );
    await rejectsWith(
      kms.send(new DeriveSharedSecretCommand({ KeyId: key, KeyAgreementAlgorithm: 'ECDH', PublicKey: peer('prime256v1').der, DryRun: true })),
      'DryRunOperationException',
      412,
    );
    await rejectsWith(
      kms.send(new DeriveSharedSecretCommand({ KeyId: key, KeyAgreementAlgorithm: 'ECDH', PublicKey: peer('secp384r1').der, DryRun: true })),
      'ValidationException',
    );
  });

  it('a disabled key is refused', async () => {
    const key = await createKey(kms, { KeySpec: 'ECC_NIST_P521', KeyUsage: 'KEY_AGREEMENT' });
    await kms.send(new DisableKeyCommand({ KeyId: key.KeyId }));
    await rejectsWith(derive(key.KeyId!, peer('secp521r1').der), 'DisabledException');
  });

  it('the audit event keeps no shared secret', async () => {
    const result = await kms.send(
      new DeriveSharedSecretCommand({ KeyId: agreementKey('ECC_NIST_P256').KeyId, KeyAgreementAlgorithm: 'ECDH', PublicKey: peer('prime256v1').der }),
    );
    const event = auditEvents(server.dataDir).find((candidate) => candidate.requestID === result.$metadata.requestId);
    assert.ok(event, 'the call was audited');
    assert.equal(event.eventName, 'DeriveSharedSecret');
    const text = JSON.stringify(event);
    assert.ok(!text.includes(Buffer.from(result.SharedSecret!).toString('base64')) && !/"sharedSecret"/i.test(text));
  });
});
