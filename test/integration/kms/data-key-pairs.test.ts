import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CreateGrantCommand,
  DecryptCommand,
  DisableKeyCommand,
  GenerateDataKeyPairCommand,
  GenerateDataKeyPairWithoutPlaintextCommand,
  type DataKeyPairSpec,
  type KeyMetadata,
  type KMSClient,
} from '@aws-sdk/client-kms';
import { auditEvents } from '../../helpers/audit.js';
import { shellOk } from '../../helpers/aws-cli.js';
import { createKey, rejectsWith } from '../../helpers/kms.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

let server: TestServer;
let kms: KMSClient;
let key: KeyMetadata;

before(async () => {
  server = await startTestServer();
  kms = server.kms();
  key = await createKey(kms, { Description: 'data key pairs' });
});
after(async () => server.cleanup());

const CONTEXT = { purpose: 'data-key-pairs', tenant: 't-1' };

/** What node:crypto reports for each KeyPairSpec's keys. */
const SPECS: Array<{ spec: DataKeyPairSpec; type: string; detail?: Record<string, unknown> }> = [
  { spec: 'RSA_2048', type: 'rsa', detail: { modulusLength: 2048 } },
  { spec: 'RSA_3072', type: 'rsa', detail: { modulusLength: 3072 } },
  { spec: 'RSA_4096', type: 'rsa', detail: { modulusLength: 4096 } },
  { spec: 'ECC_NIST_P256', type: 'ec', detail: { namedCurve: 'prime256v1' } },
  { spec: 'ECC_NIST_P384', type: 'ec', detail: { namedCurve: 'secp384r1' } },
  { spec: 'ECC_NIST_P521', type: 'ec', detail: { namedCurve: 'secp521r1' } },
  { spec: 'ECC_SECG_P256K1', type: 'ec', detail: { namedCurve: 'secp256k1' } },
  { spec: 'ECC_NIST_EDWARDS25519', type: 'ed25519' },
];

/** Signs with the private key and verifies with the public key, both as node:crypto reads the DER. */
function assertPairWorks(privateDer: Uint8Array, publicDer: Uint8Array, type: string): void {
  const privateKey = createPrivateKey({ key: Buffer.from(privateDer), format: 'der', type: 'pkcs8' });
  const publicKey = createPublicKey({ key: Buffer.from(publicDer), format: 'der', type: 'spki' });
  const message = Buffer.from('signed with a data key pair');
  const digest = type === 'ed25519' ? null : 'sha256';
  const signature = sign(digest, message, privateKey);
  assert.ok(verify(digest, message, publicKey, signature), 'the public key verifies what the private key signed');
  assert.ok(!verify(digest, Buffer.from('another message'), publicKey, signature));
  assert.deepEqual(createPublicKey(privateKey).export({ type: 'spki', format: 'der' }), Buffer.from(publicDer), 'the two keys are one pair');
}

describe('GenerateDataKeyPair', () => {
  for (const { spec, type, detail } of SPECS) {
    it(`${spec}: the private key decrypts from its blob with the context, and the pair signs and verifies`, async () => {
      const pair = await kms.send(new GenerateDataKeyPairCommand({ KeyId: key.KeyId, KeyPairSpec: spec, EncryptionContext: CONTEXT }));
      assert.equal(pair.KeyId, key.Arn);
      assert.equal(pair.KeyPairSpec, spec);
      assert.ok(pair.PrivateKeyPlaintext && pair.PublicKey && pair.PrivateKeyCiphertextBlob);

      const privateKey = createPrivateKey({ key: Buffer.from(pair.PrivateKeyPlaintext), format: 'der', type: 'pkcs8' });
      assert.equal(privateKey.asymmetricKeyType, type);
      for (const [name, value] of Object.entries(detail ?? {})) {
        assert.equal((privateKey.asymmetricKeyDetails as Record<string, unknown>)[name], value, name);
      }
      assertPairWorks(pair.PrivateKeyPlaintext, pair.PublicKey, type);

      const decrypted = await kms.send(new DecryptCommand({ CiphertextBlob: pair.PrivateKeyCiphertextBlob, EncryptionContext: CONTEXT }));
      assert.equal(decrypted.KeyId, key.Arn);
      assert.equal(decrypted.EncryptionAlgorithm, 'SYMMETRIC_DEFAULT');
      assert.deepEqual(Buffer.from(decrypted.Plaintext!), Buffer.from(pair.PrivateKeyPlaintext));
    });
  }

  it('every call returns a new pair', async () => {
    const first = await kms.send(new GenerateDataKeyPairCommand({ KeyId: key.KeyId, KeyPairSpec: 'ECC_NIST_P256' }));
    const second = await kms.send(new GenerateDataKeyPairCommand({ KeyId: key.KeyId, KeyPairSpec: 'ECC_NIST_P256' }));
    assert.notDeepEqual(Buffer.from(first.PublicKey!), Buffer.from(second.PublicKey!));
    assert.notDeepEqual(Buffer.from(first.PrivateKeyPlaintext!), Buffer.from(second.PrivateKeyPlaintext!));
  });

  it('the encrypted private key needs the same encryption context', async () => {
    const pair = await kms.send(new GenerateDataKeyPairCommand({ KeyId: key.KeyId, KeyPairSpec: 'ECC_NIST_P256', EncryptionContext: CONTEXT }));
    await rejectsWith(kms.send(new DecryptCommand({ CiphertextBlob: pair.PrivateKeyCiphertextBlob })), 'InvalidCiphertextException');
    await rejectsWith(
      kms.send(new DecryptCommand({ CiphertextBlob: pair.PrivateKeyCiphertextBlob, EncryptionContext: { ...CONTEXT, tenant: 't-2' } })),
      'InvalidCiphertextException',
    );
  });

  it('the audit event keeps neither the private key nor its ciphertext', async () => {
    const pair = await kms.send(new GenerateDataKeyPairCommand({ KeyId: key.KeyId, KeyPairSpec: 'ECC_NIST_P256', EncryptionContext: CONTEXT }));
    const event = auditEvents(server.dataDir).find((candidate) => candidate.requestID === pair.$metadata.requestId);
    assert.ok(event, 'the call was audited');
    assert.equal(event.eventName, 'GenerateDataKeyPair');
    const text = JSON.stringify(event);
    for (const secret of [pair.PrivateKeyPlaintext!, pair.PrivateKeyCiphertextBlob!]) {
      assert.ok(!text.includes(Buffer.from(secret).toString('base64')), 'no key bytes in the event');
    }
    assert.ok(!/PrivateKeyPlaintext|PrivateKeyCiphertextBlob/.test(text));
    assert.equal(event.requestParameters?.keyPairSpec ?? event.requestParameters?.KeyPairSpec, 'ECC_NIST_P256');
  });
});

describe('GenerateDataKeyPairWithoutPlaintext', () => {
  it('returns no plaintext private key; Decrypt of the blob gives the private key of the returned public key', async () => {
    const pair = await kms.send(
      new GenerateDataKeyPairWithoutPlaintextCommand({ KeyId: key.Arn, KeyPairSpec: 'RSA_2048', EncryptionContext: CONTEXT }),
    );
    assert.equal(pair.KeyId, key.Arn);
    assert.equal(pair.KeyPairSpec, 'RSA_2048');
    assert.ok(!('PrivateKeyPlaintext' in pair), 'no PrivateKeyPlaintext member');
    const decrypted = await kms.send(new DecryptCommand({ CiphertextBlob: pair.PrivateKeyCiphertextBlob, EncryptionContext: CONTEXT, KeyId: key.KeyId }));
    assertPairWorks(decrypted.Plaintext!, pair.PublicKey!, 'rsa');
  });
});

describe('refusals', () => {
  it('SM2 is refused with UnsupportedOperationException, an unknown spec with ValidationException', async () => {
    await rejectsWith(kms.send(new GenerateDataKeyPairCommand({ KeyId: key.KeyId, KeyPairSpec: 'SM2' })), 'UnsupportedOperationException');
    await rejectsWith(
      kms.send(new GenerateDataKeyPairWithoutPlaintextCommand({ KeyId: key.KeyId, KeyPairSpec: 'SM2' })),
      'UnsupportedOperationException',
    );
    await rejectsWith(
      kms.send(new GenerateDataKeyPairCommand({ KeyId: key.KeyId, KeyPairSpec: 'RSA_1024' as DataKeyPairSpec })),
      'ValidationException',
    );
  });

  it('DryRun checks and stops; Recipient is refused', async () => {
    await rejectsWith(
      kms.send(new GenerateDataKeyPairCommand({ KeyId: key.KeyId, KeyPairSpec: 'ECC_NIST_P256', DryRun: true })),
      'DryRunOperationException',
      412,
    );
    await rejectsWith(
      kms.send(new GenerateDataKeyPairWithoutPlaintextCommand({ KeyId: key.KeyId, KeyPairSpec: 'ECC_NIST_P256', DryRun: true })),
      'DryRunOperationException',
      412,
    );
    await rejectsWith(
      kms.send(
        new GenerateDataKeyPairCommand({
          KeyId: key.KeyId,
          KeyPairSpec: 'ECC_NIST_P256',
          Recipient: { KeyEncryptionAlgorithm: 'RSAES_OAEP_SHA_256', AttestationDocument: Buffer.from('doc') },
        }),
      ),
      'UnsupportedOperationException',
    );
  });

  it('a disabled key and a missing key are refused', async () => {
    const disabled = await createKey(kms, { Description: 'disabled' });
    await kms.send(new DisableKeyCommand({ KeyId: disabled.KeyId }));
    await rejectsWith(kms.send(new GenerateDataKeyPairCommand({ KeyId: disabled.KeyId, KeyPairSpec: 'ECC_NIST_P256' })), 'DisabledException');
    await rejectsWith(
      kms.send(new GenerateDataKeyPairCommand({ KeyId: '00000000-0000-4000-8000-000000000000', KeyPairSpec: 'ECC_NIST_P256' })),
      'NotFoundException',
    );
  });
});

describe('grants', () => {
  it('a grant for GenerateDataKeyPair applies with its encryption context constraint', async () => {
    const root = 'arn:aws:iam::000000000000:root';
    // The key policy lets the account root manage the key but not use it for data key pairs.
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { AWS: root }, NotAction: ['kms:GenerateDataKeyPair*'], Resource: '*' }],
    });
    const managed = await createKey(kms, { Policy: policy });
    const generate = (context?: Record<string, string>) =>
      kms.send(new GenerateDataKeyPairWithoutPlaintextCommand({ KeyId: managed.KeyId, KeyPairSpec: 'ECC_NIST_P256', EncryptionContext: context }));
    await rejectsWith(generate({ tenant: 't-1' }), 'AccessDeniedException');
    await kms.send(
      new CreateGrantCommand({
        KeyId: managed.KeyId,
        GranteePrincipal: root,
        Operations: ['GenerateDataKeyPairWithoutPlaintext'],
        Constraints: { EncryptionContextSubset: { tenant: 't-1' } },
      }),
    );
    assert.equal((await generate({ tenant: 't-1', extra: 'x' })).KeyId, managed.Arn);
    await rejectsWith(generate({ tenant: 't-2' }), 'AccessDeniedException');
    await rejectsWith(generate(), 'AccessDeniedException');
    await rejectsWith(kms.send(new GenerateDataKeyPairCommand({ KeyId: managed.KeyId, KeyPairSpec: 'ECC_NIST_P256', EncryptionContext: { tenant: 't-1' } })), 'AccessDeniedException');
  });

  it('an asymmetric or HMAC key cannot protect a data key pair (InvalidKeyUsageException)', async () => {
    const rsa = await createKey(kms, { KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT' });
    const error = await rejectsWith(kms.send(new GenerateDataKeyPairCommand({ KeyId: rsa.KeyId, KeyPairSpec: 'ECC_NIST_P256' })), 'InvalidKeyUsageException');
    assert.equal(error.message, 'Algorithm SYMMETRIC_DEFAULT is incompatible with key spec RSA_2048.');
    const hmac = await createKey(kms, { KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' });
    await rejectsWith(
      kms.send(new GenerateDataKeyPairWithoutPlaintextCommand({ KeyId: hmac.KeyId, KeyPairSpec: 'ECC_NIST_P256' })),
      'InvalidKeyUsageException',
    );
  });
});

describe('AWS CLI', () => {
  it('generate-data-key-pair-without-plaintext, then decrypt of the blob from a file', async () => {
    const workDir = mkdtempSync(join(tmpdir(), 'coffer-kms-pairs-'));
    const run = (command: string) => shellOk(command, { cwd: workDir, credentials: server.admin, region: 'us-east-1', env: { COFFER_URL: server.url } });
    try {
      const pair = JSON.parse(
        await run(`aws kms generate-data-key-pair-without-plaintext --key-id ${key.KeyId} --key-pair-spec ECC_NIST_P384 \\
  --encryption-context app=cli --endpoint-url "$COFFER_URL"`),
      ) as { PrivateKeyCiphertextBlob: string; PublicKey: string; KeyId: string; KeyPairSpec: string; PrivateKeyPlaintext?: string };
      assert.equal(pair.KeyId, key.Arn);
      assert.equal(pair.KeyPairSpec, 'ECC_NIST_P384');
      assert.equal(pair.PrivateKeyPlaintext, undefined);
      writeFileSync(join(workDir, 'private.enc'), Buffer.from(pair.PrivateKeyCiphertextBlob, 'base64'));
      const decrypted = JSON.parse(
        await run(`aws kms decrypt --ciphertext-blob fileb://private.enc --encryption-context app=cli --endpoint-url "$COFFER_URL"`),
      ) as { Plaintext: string };
      assertPairWorks(Buffer.from(decrypted.Plaintext, 'base64'), Buffer.from(pair.PublicKey, 'base64'), 'ec');
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
  });
});
