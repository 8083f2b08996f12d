import assert from 'node:assert/strict';
import { constants, createPublicKey, generateKeyPairSync, publicEncrypt, randomBytes, verify } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CreateKeyCommand,
  DeriveSharedSecretCommand,
  GenerateDataKeyCommand,
  GenerateDataKeyPairCommand,
  GetParametersForImportCommand,
  GetPublicKeyCommand,
  ImportKeyMaterialCommand,
  ReplicateKeyCommand,
  SignCommand,
  VerifyCommand,
  type KMSClient,
} from '@aws-sdk/client-kms';
import { CreateSecretCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { createLogger } from '../../../src/core/index.js';
import { createKey } from '../../helpers/kms.js';
import { secretsClient, uniqueSecretName } from '../../helpers/secrets.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

/**
 * Key material and plaintexts the clients know (imported material, a data key, a data key pair's private key,
 * a derived shared secret, a replicated secret value) never appear in the clear in any file of the data dir
 * (store, WAL, audit log) nor in a log line, as bytes, hex or base64 — with every new kind of key and the
 * Region-crossing features (multi-Region keys, replica secrets) exercised in the same server.
 */
describe('key material and plaintexts at rest and in logs', () => {
  const logLines: string[] = [];
  const known: { label: string; bytes: Buffer }[] = [];
  let server: TestServer;
  let east: KMSClient;
  let west: KMSClient;

  before(async () => {
    server = await startTestServer({ logger: createLogger({ level: 'debug', write: (line) => logLines.push(line) }) });
    east = server.kms();
    west = server.kms({ region: 'eu-west-1' });
  });
  after(async () => server.cleanup());

  it('imported material works, and is one of the markers', async () => {
    const material = randomBytes(32);
    known.push({ label: 'imported material', bytes: material });
    const key = await createKey(east, { Origin: 'EXTERNAL' });
    const params = await east.send(new GetParametersForImportCommand({ KeyId: key.KeyId, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' }));
    const wrapped = publicEncrypt(
      { key: createPublicKey({ key: Buffer.from(params.PublicKey!), format: 'der', type: 'spki' }), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
      material,
    );
    await east.send(new ImportKeyMaterialCommand({ KeyId: key.KeyId, ImportToken: params.ImportToken, EncryptedKeyMaterial: wrapped, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' }));
    const dataKey = await east.send(new GenerateDataKeyCommand({ KeyId: key.KeyId, KeySpec: 'AES_256' }));
    known.push({ label: 'data key', bytes: Buffer.from(dataKey.Plaintext!) });
  });

  it('imported HMAC material and an imported EC private key (a multi-Region key, both Regions) are markers too', async () => {
    const hmac = randomBytes(48);
    known.push({ label: 'imported HMAC material', bytes: hmac });
    const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ format: 'der', type: 'pkcs8' });
    known.push({ label: 'imported EC private key', bytes: ec });
    const importInto = async (kms: KMSClient, keyId: string, material: Buffer) => {
      const params = await kms.send(new GetParametersForImportCommand({ KeyId: keyId, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' }));
      const wrapped = publicEncrypt(
        { key: createPublicKey({ key: Buffer.from(params.PublicKey!), format: 'der', type: 'spki' }), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
        material,
      );
      await kms.send(new ImportKeyMaterialCommand({ KeyId: keyId, ImportToken: params.ImportToken, EncryptedKeyMaterial: wrapped, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' }));
    };
    const hmacKey = await createKey(east, { Origin: 'EXTERNAL', KeySpec: 'HMAC_384', KeyUsage: 'GENERATE_VERIFY_MAC' });
    await importInto(east, hmacKey.KeyId!, hmac);
    const ecKey = await createKey(east, { Origin: 'EXTERNAL', KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY', MultiRegion: true });
    await importInto(east, ecKey.KeyId!, ec);
    await east.send(new ReplicateKeyCommand({ KeyId: ecKey.KeyId, ReplicaRegion: 'eu-west-1' }));
    await importInto(west, ecKey.KeyId!, ec);
    const { Signature } = await west.send(new SignCommand({ KeyId: ecKey.KeyId, Message: Buffer.from('m'), SigningAlgorithm: 'ECDSA_SHA_256' }));
    assert.ok(Signature!.length > 0);
  });

  it('a data key pair and a derived shared secret are markers too', async () => {
    const symmetric = await createKey(east);
    const pair = await east.send(new GenerateDataKeyPairCommand({ KeyId: symmetric.KeyId, KeyPairSpec: 'ECC_NIST_P256' }));
    known.push({ label: 'data key pair private key', bytes: Buffer.from(pair.PrivateKeyPlaintext!) });

    const agreement = await createKey(east, { KeySpec: 'ECC_NIST_P256', KeyUsage: 'KEY_AGREEMENT' });
    const peer = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const derived = await east.send(
      new DeriveSharedSecretCommand({ KeyId: agreement.KeyId, KeyAgreementAlgorithm: 'ECDH', PublicKey: peer.publicKey.export({ format: 'der', type: 'spki' }) }),
    );
    known.push({ label: 'shared secret', bytes: Buffer.from(derived.SharedSecret!) });
  });

  it('a multi-Region signing key signs in one Region and verifies in the other with the same public key', async () => {
    const primary = (await east.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY', MultiRegion: true }))).KeyMetadata!;
    await east.send(new ReplicateKeyCommand({ KeyId: primary.KeyId, ReplicaRegion: 'eu-west-1' }));
    const message = Buffer.from('signed in us-east-1');
    const { Signature } = await east.send(new SignCommand({ KeyId: primary.KeyId, Message: message, MessageType: 'RAW', SigningAlgorithm: 'ECDSA_SHA_256' }));
    const verified = await west.send(
      new VerifyCommand({ KeyId: primary.KeyId, Message: message, MessageType: 'RAW', SigningAlgorithm: 'ECDSA_SHA_256', Signature }),
    );
    assert.equal(verified.SignatureValid, true);
    const eastPublic = Buffer.from((await east.send(new GetPublicKeyCommand({ KeyId: primary.KeyId }))).PublicKey!);
    const westPublic = Buffer.from((await west.send(new GetPublicKeyCommand({ KeyId: primary.KeyId }))).PublicKey!);
    assert.deepEqual(westPublic, eastPublic);
    const publicKey = createPublicKey({ key: westPublic, format: 'der', type: 'spki' });
    assert.equal(verify('sha256', message, publicKey, Buffer.from(Signature!)), true);
  });

  it('a replicated secret value is a marker', async () => {
    const value = `replica-marker-${randomBytes(16).toString('hex')}`;
    known.push({ label: 'replicated secret value', bytes: Buffer.from(value) });
    const name = uniqueSecretName('at-rest/replicated');
    await secretsClient(server).send(new CreateSecretCommand({ Name: name, SecretString: value, AddReplicaRegions: [{ Region: 'eu-west-1' }] }));
    const replica = await secretsClient(server, { region: 'eu-west-1' }).send(new GetSecretValueCommand({ SecretId: name }));
    assert.equal(replica.SecretString, value);
  });

  it('no marker is in any file of the data dir or any log line, as bytes, hex or base64', async () => {
    assert.equal(known.length, 7, "every earlier step added its markers");
    await server.stop();
    const files = filesUnder(server.dataDir);
    assert.ok(files.some((path) => path.endsWith('coffer.db')), `the store file is among ${files.join(', ')}`);
    const contents = files.map((path) => ({ path, bytes: readFileSync(path) }));
    const logs = Buffer.from(logLines.join('\n'));
    // The server logs no request at any level today (the audit log records calls): the log scan guards what
    // a future log line could leak, at debug level.
    for (const { label, bytes } of known) {
      for (const form of [bytes, Buffer.from(bytes.toString('hex')), Buffer.from(bytes.toString('base64'))]) {
        for (const { path, bytes: content } of contents) assert.equal(content.includes(form), false, `${label} found in ${path}`);
        assert.equal(logs.includes(form), false, `${label} found in the log`);
      }
    }
  });
});

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}
