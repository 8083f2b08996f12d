import assert from 'node:assert/strict';
import { createPublicKey, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CancelKeyDeletionCommand,
  CreateGrantCommand,
  DecryptCommand,
  DeleteImportedKeyMaterialCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GetParametersForImportCommand,
  ImportKeyMaterialCommand,
  ScheduleKeyDeletionCommand,
  type AlgorithmSpec,
  type KMSClient,
  type WrappingKeySpec,
} from '@aws-sdk/client-kms';
import { shellOk } from '../../helpers/aws-cli.js';
import { auditEvents } from '../../helpers/audit.js';
import { createUser } from '../../helpers/principals.js';
import { ManualClock } from '../../helpers/clock.js';
import { createKey, DAY_MS, rejectsWith, roundSecondNow, wrapKeyMaterial } from '../../helpers/kms.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

let server: TestServer;
let clock: ManualClock;
let kms: KMSClient;
let workDir: string;

before(async () => {
  clock = new ManualClock(roundSecondNow());
  server = await startTestServer({ clock });
  kms = server.kms();
  workDir = mkdtempSync(join(tmpdir(), 'coffer-kms-import-'));
});
after(async () => {
  rmSync(workDir, { recursive: true, force: true });
  await server.cleanup();
});

const run = (command: string) => shellOk(command, { cwd: workDir, credentials: server.admin, region: 'us-east-1', env: { COFFER_URL: server.url } });

const externalKey = () => createKey(kms, { Origin: 'EXTERNAL', Description: 'imported' });


async function importMaterial(
  keyId: string,
  material: Buffer,
  options: { algorithm?: AlgorithmSpec; spec?: WrappingKeySpec; validTo?: Date } = {},
) {
  const algorithm = options.algorithm ?? 'RSAES_OAEP_SHA_256';
  const params = await kms.send(new GetParametersForImportCommand({ KeyId: keyId, WrappingAlgorithm: algorithm, WrappingKeySpec: options.spec ?? 'RSA_2048' }));
  return kms.send(
    new ImportKeyMaterialCommand({
      KeyId: keyId,
      ImportToken: params.ImportToken,
      EncryptedKeyMaterial: wrapKeyMaterial(params.PublicKey!, material, algorithm),
      ...(options.validTo ? { ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: options.validTo } : { ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' }),
    }),
  );
}

async function describe_(keyId: string) {
  return (await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!;
}

const plaintext = Buffer.from('sealed under imported material');

describe('CreateKey with Origin EXTERNAL', () => {
  it('creates a key PendingImport without material: crypto, Enable/Disable refused by state, rotation unsupported', async () => {
    const key = await externalKey();
    assert.equal(key.Origin, 'EXTERNAL');
    assert.equal(key.KeyState, 'PendingImport');
    assert.equal(key.Enabled, false);
    assert.equal(key.ExpirationModel, undefined);
    assert.equal(key.ValidTo, undefined);
    assert.equal((await describe_(key.KeyId!)).KeyState, 'PendingImport');

    const error = await rejectsWith(kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: plaintext })), 'KMSInvalidStateException');
    assert.equal(error.message, `${key.Arn} is pending import.`);
    await rejectsWith(kms.send(new GenerateDataKeyCommand({ KeyId: key.KeyId, KeySpec: 'AES_256' })), 'KMSInvalidStateException');
    await rejectsWith(kms.send(new EnableKeyCommand({ KeyId: key.KeyId })), 'KMSInvalidStateException');
    await rejectsWith(kms.send(new DisableKeyCommand({ KeyId: key.KeyId })), 'KMSInvalidStateException');
    await rejectsWith(kms.send(new EnableKeyRotationCommand({ KeyId: key.KeyId })), 'UnsupportedOperationException');
  });

  it('refuses EXTERNAL for ML-DSA and Ed25519 keys (not in AWS list of importable specs) with UnsupportedOperationException', async () => {
    for (const KeySpec of ['ML_DSA_65', 'ECC_NIST_EDWARDS25519'] as const) {
      const error = await rejectsWith(createKey(kms, { Origin: 'EXTERNAL', KeySpec, KeyUsage: 'SIGN_VERIFY' }), 'UnsupportedOperationException');
      assert.match(error.message, new RegExp(KeySpec));
    }
  });

  it('a key PendingImport may be scheduled for deletion; cancelling returns it to PendingImport', async () => {
    const key = await externalKey();
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: 7 }));
    await kms.send(new CancelKeyDeletionCommand({ KeyId: key.KeyId }));
    assert.equal((await describe_(key.KeyId!)).KeyState, 'PendingImport');
  });

  it('import operations are not grantable (CreateGrant refuses them as an operation)', async () => {
    const key = await externalKey();
    await rejectsWith(
      kms.send(new CreateGrantCommand({ KeyId: key.KeyId, GranteePrincipal: 'arn:aws:iam::000000000000:root', Operations: ['ImportKeyMaterial' as 'Encrypt'] })),
      'ValidationException',
    );
  });
});

describe('the import workflow with the AWS CLI and openssl, as AWS documents it', () => {
  it('RSAES_OAEP_SHA_256 import, use, delete, re-import the same material with RSA_AES_KEY_WRAP_SHA_256, different material refused', async () => {
    const key = await externalKey();
    const K = key.KeyId!;
    await run(`set -e
aws kms get-parameters-for-import --key-id ${K} --wrapping-algorithm RSAES_OAEP_SHA_256 --wrapping-key-spec RSA_4096 \\
  --endpoint-url "$COFFER_URL" > params.json
python3 -c 'import json; p = json.load(open("params.json")); open("PublicKey.b64", "w").write(p["PublicKey"]); open("ImportToken.b64", "w").write(p["ImportToken"])'
openssl enc -d -base64 -A -in PublicKey.b64 -out WrappingPublicKey.bin
openssl enc -d -base64 -A -in ImportToken.b64 -out ImportToken.bin
openssl rand -out PlaintextKeyMaterial.bin 32
openssl pkeyutl -encrypt -in PlaintextKeyMaterial.bin -out EncryptedKeyMaterial.bin -inkey WrappingPublicKey.bin \\
  -keyform DER -pubin -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256
aws kms import-key-material --key-id ${K} --encrypted-key-material fileb://EncryptedKeyMaterial.bin \\
  --import-token fileb://ImportToken.bin --expiration-model KEY_MATERIAL_DOES_NOT_EXPIRE --endpoint-url "$COFFER_URL" > imported.json
`);
    const params = JSON.parse(readFileSync(join(workDir, 'params.json'), 'utf8')) as { KeyId: string; ParametersValidTo: number };
    assert.equal(params.KeyId, key.Arn);
    assert.equal(params.ParametersValidTo * 1000, clock.now().getTime() + DAY_MS);
    const publicKey = createPublicKey({ key: readFileSync(join(workDir, 'WrappingPublicKey.bin')), format: 'der', type: 'spki' });
    assert.equal(publicKey.asymmetricKeyDetails?.modulusLength, 4096);
    assert.ok(readFileSync(join(workDir, 'ImportToken.bin')).length <= 6144, 'an RSA_4096 token fits AWS limit');
    const imported = JSON.parse(readFileSync(join(workDir, 'imported.json'), 'utf8')) as { KeyId: string; KeyMaterialId: string };
    assert.equal(imported.KeyId, key.Arn);
    assert.match(imported.KeyMaterialId, /^[0-9a-f]{64}$/);

    const enabled = await describe_(K);
    assert.equal(enabled.KeyState, 'Enabled');
    assert.equal(enabled.ExpirationModel, 'KEY_MATERIAL_DOES_NOT_EXPIRE');
    assert.equal(enabled.ValidTo, undefined);
    const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: K, Plaintext: plaintext }));
    assert.deepEqual(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob }))).Plaintext!), plaintext);

    // Delete the material: the key is unusable, and says so by its state.
    const deleted = JSON.parse(await run(`aws kms delete-imported-key-material --key-id ${K} --endpoint-url "$COFFER_URL"`)) as { KeyMaterialId: string };
    assert.equal(deleted.KeyMaterialId, imported.KeyMaterialId);
    const pending = await describe_(K);
    assert.equal(pending.KeyState, 'PendingImport');
    assert.equal(pending.ExpirationModel, undefined);
    await rejectsWith(kms.send(new DecryptCommand({ CiphertextBlob })), 'KMSInvalidStateException');

    // Re-import the same material with RSA_AES_KEY_WRAP_SHA_256, exactly as AWS's guide builds it with openssl.
    await run(`set -e
aws kms get-parameters-for-import --key-id ${K} --wrapping-algorithm RSA_AES_KEY_WRAP_SHA_256 --wrapping-key-spec RSA_3072 \\
  --endpoint-url "$COFFER_URL" > params2.json
python3 -c 'import json; p = json.load(open("params2.json")); open("PublicKey2.b64", "w").write(p["PublicKey"]); open("ImportToken2.b64", "w").write(p["ImportToken"])'
openssl enc -d -base64 -A -in PublicKey2.b64 -out WrappingPublicKey2.bin
openssl enc -d -base64 -A -in ImportToken2.b64 -out ImportToken2.bin
openssl rand -out aes-key.bin 32
openssl enc -id-aes256-wrap-pad -K "$(xxd -p < aes-key.bin | tr -d '\\n')" -iv A65959A6 -in PlaintextKeyMaterial.bin -out key-material-wrapped.bin
openssl pkeyutl -encrypt -in aes-key.bin -out aes-key-wrapped.bin -inkey WrappingPublicKey2.bin -keyform DER -pubin \\
  -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256
cat aes-key-wrapped.bin key-material-wrapped.bin > EncryptedKeyMaterial2.bin
aws kms import-key-material --key-id ${K} --encrypted-key-material fileb://EncryptedKeyMaterial2.bin \\
  --import-token fileb://ImportToken2.bin --expiration-model KEY_MATERIAL_DOES_NOT_EXPIRE --endpoint-url "$COFFER_URL" > imported2.json
`);
    assert.equal((JSON.parse(readFileSync(join(workDir, 'imported2.json'), 'utf8')) as { KeyMaterialId: string }).KeyMaterialId, imported.KeyMaterialId);
    assert.equal((await describe_(K)).KeyState, 'Enabled');
    assert.deepEqual(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob }))).Plaintext!), plaintext, 'the old ciphertext decrypts again');

    // Different material is refused, after a deletion too, and changes nothing.
    await kms.send(new DeleteImportedKeyMaterialCommand({ KeyId: K }));
    await rejectsWith(importMaterial(K, randomBytes(32)), 'IncorrectKeyMaterialException');
    assert.equal((await describe_(K)).KeyState, 'PendingImport');
    await importMaterial(K, readFileSync(join(workDir, 'PlaintextKeyMaterial.bin')), { algorithm: 'RSA_AES_KEY_WRAP_SHA_1' });
    assert.deepEqual(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob }))).Plaintext!), plaintext);
  });
});

describe('ImportKeyMaterial with the SDK', () => {
  for (const algorithm of ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256', 'RSA_AES_KEY_WRAP_SHA_1', 'RSA_AES_KEY_WRAP_SHA_256'] as const) {
    it(`imports material wrapped with ${algorithm}; the key encrypts and decrypts`, async () => {
      const key = await externalKey();
      const result = await importMaterial(key.KeyId!, randomBytes(32), { algorithm });
      assert.equal(result.KeyId, key.Arn);
      const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: plaintext }));
      assert.deepEqual(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob }))).Plaintext!), plaintext);
    });
  }

  it('re-importing the same material into an Enabled key changes its expiry; NEW_KEY_MATERIAL into it is unsupported', async () => {
    const key = await externalKey();
    const material = randomBytes(32);
    await importMaterial(key.KeyId!, material);
    const validTo = new Date(clock.now().getTime() + 10 * DAY_MS);
    await importMaterial(key.KeyId!, material, { validTo });
    const metadata = await describe_(key.KeyId!);
    assert.equal(metadata.ExpirationModel, 'KEY_MATERIAL_EXPIRES');
    assert.equal(metadata.ValidTo?.getTime(), validTo.getTime());

    const params = await kms.send(new GetParametersForImportCommand({ KeyId: key.KeyId, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' }));
    await rejectsWith(
      kms.send(new ImportKeyMaterialCommand({
        KeyId: key.KeyId, ImportToken: params.ImportToken, EncryptedKeyMaterial: wrapKeyMaterial(params.PublicKey!, randomBytes(32), 'RSAES_OAEP_SHA_256'),
        ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE', ImportType: 'NEW_KEY_MATERIAL',
      })),
      'UnsupportedOperationException',
    );
  });

  it('ExpirationModel and ValidTo: AWS rules, each refusal changes nothing', async () => {
    const key = await externalKey();
    const params = await kms.send(new GetParametersForImportCommand({ KeyId: key.KeyId, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' }));
    const base = { KeyId: key.KeyId, ImportToken: params.ImportToken, EncryptedKeyMaterial: wrapKeyMaterial(params.PublicKey!, randomBytes(32), 'RSAES_OAEP_SHA_256') };
    const now = clock.now().getTime();
    await rejectsWith(kms.send(new ImportKeyMaterialCommand(base)), 'ValidationException');
    await rejectsWith(kms.send(new ImportKeyMaterialCommand({ ...base, ExpirationModel: 'KEY_MATERIAL_EXPIRES' })), 'ValidationException');
    await rejectsWith(
      kms.send(new ImportKeyMaterialCommand({ ...base, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE', ValidTo: new Date(now + DAY_MS) })),
      'ValidationException',
    );
    await rejectsWith(kms.send(new ImportKeyMaterialCommand({ ...base, ValidTo: new Date(now - 1000) })), 'ValidationException');
    await rejectsWith(kms.send(new ImportKeyMaterialCommand({ ...base, ValidTo: new Date(now + 366 * DAY_MS) })), 'ValidationException');
    assert.equal((await describe_(key.KeyId!)).KeyState, 'PendingImport');
    // ValidTo alone means the default model, KEY_MATERIAL_EXPIRES.
    await kms.send(new ImportKeyMaterialCommand({ ...base, ValidTo: new Date(now + 365 * DAY_MS) }));
    assert.equal((await describe_(key.KeyId!)).ExpirationModel, 'KEY_MATERIAL_EXPIRES');
  });

  it('a tampered token, a token of another key and an expired token are refused; the key stays PendingImport', async () => {
    const key = await externalKey();
    const other = await externalKey();
    const params = await kms.send(new GetParametersForImportCommand({ KeyId: key.KeyId, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' }));
    const material = wrapKeyMaterial(params.PublicKey!, randomBytes(32), 'RSAES_OAEP_SHA_256');
    const send = (keyId: string, token: Uint8Array) =>
      kms.send(new ImportKeyMaterialCommand({ KeyId: keyId, ImportToken: token, EncryptedKeyMaterial: material, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' }));

    const tampered = Buffer.from(params.ImportToken!);
    tampered[tampered.length - 5]! ^= 0x01;
    await rejectsWith(send(key.KeyId!, tampered), 'InvalidImportTokenException');
    await rejectsWith(send(other.KeyId!, params.ImportToken!), 'InvalidImportTokenException');
    assert.equal((await describe_(other.KeyId!)).KeyState, 'PendingImport');

    clock.advanceMs(DAY_MS + 1000);
    await rejectsWith(send(key.KeyId!, params.ImportToken!), 'ExpiredImportTokenException');
    assert.equal((await describe_(key.KeyId!)).KeyState, 'PendingImport');
  });

  it('material that does not unwrap is InvalidCiphertextException; material not 32 bytes is IncorrectKeyMaterialException', async () => {
    const key = await externalKey();
    const params = await kms.send(new GetParametersForImportCommand({ KeyId: key.KeyId, WrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_256', WrappingKeySpec: 'RSA_2048' }));
    const otherParams = await kms.send(new GetParametersForImportCommand({ KeyId: key.KeyId, WrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_256', WrappingKeySpec: 'RSA_2048' }));
    const send = (encrypted: Buffer) =>
      kms.send(new ImportKeyMaterialCommand({ KeyId: key.KeyId, ImportToken: params.ImportToken, EncryptedKeyMaterial: encrypted, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' }));
    await rejectsWith(send(wrapKeyMaterial(otherParams.PublicKey!, randomBytes(32), 'RSA_AES_KEY_WRAP_SHA_256')), 'InvalidCiphertextException');
    await rejectsWith(send(wrapKeyMaterial(params.PublicKey!, randomBytes(32), 'RSA_AES_KEY_WRAP_SHA_1')), 'InvalidCiphertextException');
    await rejectsWith(send(wrapKeyMaterial(params.PublicKey!, randomBytes(32), 'RSAES_OAEP_SHA_256')), 'InvalidCiphertextException');
    await rejectsWith(send(wrapKeyMaterial(params.PublicKey!, randomBytes(16), 'RSA_AES_KEY_WRAP_SHA_256')), 'IncorrectKeyMaterialException');
    assert.equal((await describe_(key.KeyId!)).KeyState, 'PendingImport');
  });
});

describe('GetParametersForImport and DeleteImportedKeyMaterial refusals', () => {
  it('refuses RSAES_PKCS1_V1_5, SM2PKE and SM2 with UnsupportedOperationException', async () => {
    const key = await externalKey();
    for (const [algorithm, spec] of [['RSAES_PKCS1_V1_5', 'RSA_2048'], ['SM2PKE', 'RSA_2048'], ['RSAES_OAEP_SHA_256', 'SM2']] as const) {
      await rejectsWith(kms.send(new GetParametersForImportCommand({ KeyId: key.KeyId, WrappingAlgorithm: algorithm, WrappingKeySpec: spec })), 'UnsupportedOperationException');
    }
  });

  it('refuses all three operations on a key with KMS-made material (Origin AWS_KMS)', async () => {
    const key = await createKey(kms);
    await rejectsWith(
      kms.send(new GetParametersForImportCommand({ KeyId: key.KeyId, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' })),
      'UnsupportedOperationException',
    );
    await rejectsWith(
      kms.send(new ImportKeyMaterialCommand({ KeyId: key.KeyId, ImportToken: Buffer.from('x'), EncryptedKeyMaterial: Buffer.from('y'), ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' })),
      'UnsupportedOperationException',
    );
    await rejectsWith(kms.send(new DeleteImportedKeyMaterialCommand({ KeyId: key.KeyId })), 'UnsupportedOperationException');
  });

  it('a key pending deletion gets no parameters; DeleteImportedKeyMaterial of a key without material is KMSInvalidStateException', async () => {
    const key = await externalKey();
    await rejectsWith(kms.send(new DeleteImportedKeyMaterialCommand({ KeyId: key.KeyId })), 'KMSInvalidStateException');
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: 7 }));
    await rejectsWith(
      kms.send(new GetParametersForImportCommand({ KeyId: key.KeyId, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' })),
      'KMSInvalidStateException',
    );
  });

  it('deleting the material of a key pending deletion keeps it pending deletion; cancelling then leaves it PendingImport', async () => {
    const key = await externalKey();
    await importMaterial(key.KeyId!, randomBytes(32));
    await rejectsWith(kms.send(new DeleteImportedKeyMaterialCommand({ KeyId: key.KeyId, KeyMaterialId: 'a'.repeat(64) })), 'NotFoundException');
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: 7 }));
    await kms.send(new DeleteImportedKeyMaterialCommand({ KeyId: key.KeyId }));
    assert.equal((await describe_(key.KeyId!)).KeyState, 'PendingDeletion');
    await kms.send(new CancelKeyDeletionCommand({ KeyId: key.KeyId }));
    assert.equal((await describe_(key.KeyId!)).KeyState, 'PendingImport');
  });
});

describe('expiry (ValidTo)', () => {
  it('the maintenance sweep deletes expired material: PendingImport, no ValidTo; the same material makes old ciphertexts decrypt again', async () => {
    const key = await externalKey();
    const material = randomBytes(32);
    const validTo = new Date(clock.now().getTime() + 2 * DAY_MS);
    await importMaterial(key.KeyId!, material, { validTo });
    const before = await describe_(key.KeyId!);
    assert.equal(before.ValidTo?.getTime(), validTo.getTime());
    assert.equal(before.ExpirationModel, 'KEY_MATERIAL_EXPIRES');
    const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: plaintext }));

    clock.advanceMs(DAY_MS);
    await server.server.coffer.runMaintenance();
    assert.equal((await describe_(key.KeyId!)).KeyState, 'Enabled', 'not yet');
    clock.advanceMs(DAY_MS);
    const { expired } = await server.server.coffer.kms.maintenance.runDue(clock.now());
    assert.ok(expired >= 1);
    const after = await describe_(key.KeyId!);
    assert.equal(after.KeyState, 'PendingImport');
    assert.equal(after.ValidTo, undefined);
    await rejectsWith(kms.send(new DecryptCommand({ CiphertextBlob })), 'KMSInvalidStateException');

    await importMaterial(key.KeyId!, material);
    assert.deepEqual(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob }))).Plaintext!), plaintext);
  });

  it('material past its ValidTo is unusable at once, before any sweep', async () => {
    const key = await externalKey();
    await importMaterial(key.KeyId!, randomBytes(32), { validTo: new Date(clock.now().getTime() + DAY_MS) });
    const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: plaintext }));
    clock.advanceMs(DAY_MS);
    await rejectsWith(kms.send(new DecryptCommand({ CiphertextBlob })), 'KMSInvalidStateException');
    assert.equal((await describe_(key.KeyId!)).KeyState, 'PendingImport');
  });
});

describe('authorization', () => {
  it('each import operation is its own key policy action (kms:GetParametersForImport, kms:ImportKeyMaterial, kms:DeleteImportedKeyMaterial)', async () => {
    const key = await externalKey();
    const user = await createUser(server, server.admin, `importer-${Math.random().toString(36).slice(2, 8)}`, {
      policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:GetParametersForImport', Resource: key.Arn }] },
    });
    const userKms = server.kms({ credentials: user.keys });
    try {
      const params = await userKms.send(new GetParametersForImportCommand({ KeyId: key.KeyId, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' }));
      const denied = await rejectsWith(
        userKms.send(new ImportKeyMaterialCommand({
          KeyId: key.KeyId, ImportToken: params.ImportToken, EncryptedKeyMaterial: wrapKeyMaterial(params.PublicKey!, randomBytes(32), 'RSAES_OAEP_SHA_256'),
          ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE',
        })),
        'AccessDeniedException',
      );
      assert.match(denied.message, /kms:ImportKeyMaterial/);
      await rejectsWith(userKms.send(new DeleteImportedKeyMaterialCommand({ KeyId: key.KeyId })), 'AccessDeniedException');
      assert.equal((await describe_(key.KeyId!)).KeyState, 'PendingImport');
    } finally {
      userKms.destroy();
    }
  });
});

describe('condition keys of the import operations', () => {
  it('kms:WrappingAlgorithm, kms:WrappingKeySpec, kms:ExpirationModel and kms:ValidTo: a Deny on each applies', async () => {
    const key = await externalKey();
    const limit = Math.floor(clock.now().getTime() / 1000) + 30 * 86_400;
    const user = await createUser(server, server.admin, `import-conditions-${Math.random().toString(36).slice(2, 8)}`, {
      policy: {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: ['kms:GetParametersForImport', 'kms:ImportKeyMaterial', 'kms:DescribeKey'], Resource: key.Arn },
          { Effect: 'Deny', Action: 'kms:GetParametersForImport', Resource: '*', Condition: { StringEquals: { 'kms:WrappingAlgorithm': 'RSAES_OAEP_SHA_1' } } },
          { Effect: 'Deny', Action: 'kms:GetParametersForImport', Resource: '*', Condition: { StringEquals: { 'kms:WrappingKeySpec': 'RSA_3072' } } },
          { Effect: 'Deny', Action: 'kms:ImportKeyMaterial', Resource: '*', Condition: { StringEquals: { 'kms:ExpirationModel': 'KEY_MATERIAL_DOES_NOT_EXPIRE' } } },
          { Effect: 'Deny', Action: 'kms:ImportKeyMaterial', Resource: '*', Condition: { NumericGreaterThan: { 'kms:ValidTo': String(limit) } } },
        ],
      },
    });
    const userKms = server.kms({ credentials: user.keys });
    try {
      const params = (algorithm: AlgorithmSpec, spec: WrappingKeySpec) =>
        userKms.send(new GetParametersForImportCommand({ KeyId: key.KeyId, WrappingAlgorithm: algorithm, WrappingKeySpec: spec }));
      await rejectsWith(params('RSAES_OAEP_SHA_1', 'RSA_2048'), 'AccessDeniedException');
      await rejectsWith(params('RSAES_OAEP_SHA_256', 'RSA_3072'), 'AccessDeniedException');
      const allowed = await params('RSAES_OAEP_SHA_256', 'RSA_2048');
      const material = randomBytes(32);
      const send = (expiry: { ExpirationModel?: 'KEY_MATERIAL_DOES_NOT_EXPIRE'; ValidTo?: Date }) =>
        userKms.send(new ImportKeyMaterialCommand({
          KeyId: key.KeyId, ImportToken: allowed.ImportToken, EncryptedKeyMaterial: wrapKeyMaterial(allowed.PublicKey!, material, 'RSAES_OAEP_SHA_256'), ...expiry,
        }));
      await rejectsWith(send({ ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' }), 'AccessDeniedException');
      await rejectsWith(send({ ValidTo: new Date((limit + 86_400) * 1000) }), 'AccessDeniedException');
      assert.equal((await describe_(key.KeyId!)).KeyState, 'PendingImport');
      await send({ ValidTo: new Date((limit - 86_400) * 1000) });
      assert.equal((await describe_(key.KeyId!)).KeyState, 'Enabled');
    } finally {
      userKms.destroy();
    }
  });
});

describe('audit', () => {
  it('records the import calls without the import token, the public key or the encrypted material', async () => {
    const key = await externalKey();
    await importMaterial(key.KeyId!, randomBytes(32));
    const events = auditEvents(server.dataDir).filter((event) => event.requestParameters?.keyId === key.KeyId || event.requestParameters?.KeyId === key.KeyId);
    const names = events.map((event) => event.eventName);
    assert.ok(names.includes('GetParametersForImport') && names.includes('ImportKeyMaterial'), names.join());
    for (const event of events) {
      const text = JSON.stringify(event);
      assert.doesNotMatch(text, /ImportToken|EncryptedKeyMaterial|PublicKey/i);
    }
  });
});
