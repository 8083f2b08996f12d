import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateKeyCommand, DecryptCommand, EncryptCommand } from '@aws-sdk/client-kms';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

describe('KMS round trip with the AWS SDK', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => server.cleanup());

  it('Encrypt then Decrypt without KeyId gives the plaintext back', async () => {
    const kms = server.kms();
    const { KeyMetadata } = await kms.send(new CreateKeyCommand({ Description: 'smoke' }));
    const plaintext = Buffer.from('attack at dawn');
    const encrypted = await kms.send(new EncryptCommand({ KeyId: KeyMetadata!.KeyId, Plaintext: plaintext }));
    const decrypted = await kms.send(new DecryptCommand({ CiphertextBlob: encrypted.CiphertextBlob }));
    assert.equal(Buffer.from(decrypted.Plaintext!).toString(), 'attack at dawn');
    assert.equal(decrypted.KeyId, KeyMetadata!.Arn);
  });
});
