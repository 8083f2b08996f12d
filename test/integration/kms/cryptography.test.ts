import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  CreateAliasCommand,
  DecryptCommand,
  DisableKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateDataKeyWithoutPlaintextCommand,
  GenerateRandomCommand,
  ReEncryptCommand,
  type KeyMetadata,
  type KMSClient,
} from '@aws-sdk/client-kms';
import { createKey, rejectsWith, uniqueAliasName } from '../../helpers/kms.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

/** Offsets in Coffer's ciphertext blob (src/crypto/ciphertext-blob.ts): header, IV, tag, then ciphertext. */
const BLOB = { backingKeyId: 17, iv: 33, tag: 45, ciphertext: 61 } as const;

let server: TestServer;
let kms: KMSClient;
let key: KeyMetadata;
let otherKey: KeyMetadata;
let aliasName: string;

before(async () => {
  server = await startTestServer();
  kms = server.kms();
  key = await createKey(kms, { Description: 'crypto' });
  otherKey = await createKey(kms, { Description: 'other' });
  aliasName = uniqueAliasName('crypto');
  await kms.send(new CreateAliasCommand({ AliasName: aliasName, TargetKeyId: key.KeyId }));
});
after(async () => server.cleanup());

async function encrypt(plaintext: Buffer, context?: Record<string, string>, keyId = key.KeyId): Promise<Uint8Array> {
  const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: plaintext, EncryptionContext: context }));
  assert.ok(CiphertextBlob);
  return CiphertextBlob;
}

async function decrypt(blob: Uint8Array, context?: Record<string, string>, keyId?: string): Promise<Buffer> {
  const { Plaintext } = await kms.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: context, KeyId: keyId }));
  assert.ok(Plaintext);
  return Buffer.from(Plaintext);
}

function withByteFlipped(blob: Uint8Array, offset: number): Uint8Array {
  const copy = Buffer.from(blob);
  copy[offset] = copy[offset]! ^ 0x01;
  return copy;
}

describe('Encrypt and Decrypt', () => {
  it('Decrypt without KeyId finds the key from the blob and returns the plaintext', async () => {
    const plaintext = Buffer.from('attack at dawn');
    const encrypted = await kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: plaintext }));
    assert.equal(encrypted.KeyId, key.Arn);
    assert.equal(encrypted.EncryptionAlgorithm, 'SYMMETRIC_DEFAULT');
    assert.ok(!Buffer.from(encrypted.CiphertextBlob!).includes(plaintext), 'the blob does not contain the plaintext');

    const decrypted = await kms.send(new DecryptCommand({ CiphertextBlob: encrypted.CiphertextBlob }));
    assert.deepEqual(Buffer.from(decrypted.Plaintext!), plaintext);
    assert.equal(decrypted.KeyId, key.Arn);
    assert.equal(decrypted.EncryptionAlgorithm, 'SYMMETRIC_DEFAULT');
  });

  it('Encrypt through an alias name and alias ARN uses the aliased key', async () => {
    for (const reference of [aliasName, `arn:aws:kms:us-east-1:000000000000:${aliasName}`]) {
      const encrypted = await kms.send(new EncryptCommand({ KeyId: reference, Plaintext: Buffer.from('via alias') }));
      assert.equal(encrypted.KeyId, key.Arn);
      assert.equal((await decrypt(encrypted.CiphertextBlob!)).toString(), 'via alias');
    }
  });

  it('encrypting the same plaintext twice gives different blobs', async () => {
    const plaintext = Buffer.from('same');
    const first = Buffer.from(await encrypt(plaintext));
    const second = Buffer.from(await encrypt(plaintext));
    assert.notDeepEqual(first, second);
  });

  it('accepts binary plaintext of 1 and 4096 bytes', async () => {
    for (const size of [1, 4096]) {
      const plaintext = randomBytes(size);
      assert.deepEqual(await decrypt(await encrypt(plaintext)), plaintext);
    }
  });

  it('refuses 4097 bytes of plaintext with ValidationException', async () => {
    const error = await rejectsWith(kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: randomBytes(4097) })), 'ValidationException');
    assert.match(error.message, /plaintext/);
  });

  it('refuses an empty plaintext with ValidationException', async () => {
    await rejectsWith(kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: new Uint8Array(0) })), 'ValidationException');
  });

  it('answers NotFoundException for a key that does not exist', async () => {
    await rejectsWith(kms.send(new EncryptCommand({ KeyId: randomUUID(), Plaintext: Buffer.from('x') })), 'NotFoundException');
    await rejectsWith(kms.send(new EncryptCommand({ KeyId: 'alias/no-such-alias', Plaintext: Buffer.from('x') })), 'NotFoundException');
  });

  it('accepts EncryptionAlgorithm SYMMETRIC_DEFAULT spelled out', async () => {
    const encrypted = await kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x'), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' }));
    const decrypted = await kms.send(new DecryptCommand({ CiphertextBlob: encrypted.CiphertextBlob, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' }));
    assert.equal(Buffer.from(decrypted.Plaintext!).toString(), 'x');
  });

  it('refuses an asymmetric EncryptionAlgorithm on a symmetric key with InvalidKeyUsageException', async () => {
    const asymmetric = new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x'), EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' });
    await rejectsWith(kms.send(asymmetric), 'InvalidKeyUsageException');
    const blob = await encrypt(Buffer.from('x'));
    await rejectsWith(kms.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' })), 'InvalidKeyUsageException');
  });
});

describe('Decrypt with EncryptionContext', () => {
  const context = { tenant: 'acme', purpose: 'invoices' };

  it('needs the exact encryption context; the order of pairs does not matter', async () => {
    const blob = await encrypt(Buffer.from('bound'), context);
    assert.equal((await decrypt(blob, { tenant: 'acme', purpose: 'invoices' })).toString(), 'bound');
    assert.equal((await decrypt(blob, { purpose: 'invoices', tenant: 'acme' })).toString(), 'bound');
  });

  for (const [change, wrongContext] of [
    ['missing', undefined],
    ['missing a pair', { tenant: 'acme' }],
    ['with an extra pair', { ...context, extra: 'pair' }],
    ['with a different value', { tenant: 'acme', purpose: 'payroll' }],
    ['with a different key', { tenant: 'acme', Purpose: 'invoices' }],
  ] as const) {
    it(`refuses the context ${change} with InvalidCiphertextException`, async () => {
      const blob = await encrypt(Buffer.from('bound'), context);
      await rejectsWith(kms.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: wrongContext })), 'InvalidCiphertextException');
    });
  }

  it('refuses a context for a blob encrypted without one with InvalidCiphertextException', async () => {
    const blob = await encrypt(Buffer.from('unbound'));
    await rejectsWith(kms.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: { any: 'thing' } })), 'InvalidCiphertextException');
  });

  it('treats an empty context as no context', async () => {
    const blob = await encrypt(Buffer.from('unbound'), {});
    assert.equal((await decrypt(blob)).toString(), 'unbound');
  });
});

describe('Decrypt with KeyId', () => {
  it('works when KeyId names the encrypting key by id, ARN or alias', async () => {
    const blob = await encrypt(Buffer.from('named'));
    for (const reference of [key.KeyId!, key.Arn!, aliasName]) {
      assert.equal((await decrypt(blob, undefined, reference)).toString(), 'named');
    }
  });

  it('refuses another key with IncorrectKeyException', async () => {
    const blob = await encrypt(Buffer.from('named'));
    await rejectsWith(kms.send(new DecryptCommand({ CiphertextBlob: blob, KeyId: otherKey.KeyId })), 'IncorrectKeyException');
  });
});

describe('Decrypt of a damaged CiphertextBlob', () => {
  it('refuses bytes that are not a ciphertext blob with InvalidCiphertextException', async () => {
    for (const garbage of [Buffer.from('this is not a ciphertext blob at all, just some text long enough'), Buffer.from([1, 2, 3])]) {
      await rejectsWith(kms.send(new DecryptCommand({ CiphertextBlob: garbage })), 'InvalidCiphertextException');
    }
  });

  for (const [part, offset] of Object.entries(BLOB)) {
    it(`refuses a blob with one bit flipped in the ${part} with InvalidCiphertextException`, async () => {
      const blob = await encrypt(Buffer.from('tamper with me'));
      await rejectsWith(kms.send(new DecryptCommand({ CiphertextBlob: withByteFlipped(blob, offset) })), 'InvalidCiphertextException');
    });
  }

  it('refuses a truncated blob with InvalidCiphertextException', async () => {
    const blob = await encrypt(Buffer.from('cut short'));
    await rejectsWith(kms.send(new DecryptCommand({ CiphertextBlob: blob.subarray(0, blob.length - 1) })), 'InvalidCiphertextException');
    await rejectsWith(kms.send(new DecryptCommand({ CiphertextBlob: blob.subarray(0, 40) })), 'InvalidCiphertextException');
  });
});

describe('ReEncrypt', () => {
  it('moves a ciphertext to another key and context; the result decrypts with the new key and destination context', async () => {
    const sourceContext = { stage: 'source' };
    const destinationContext = { stage: 'destination' };
    const blob = await encrypt(Buffer.from('moving'), sourceContext);

    const moved = await kms.send(
      new ReEncryptCommand({
        CiphertextBlob: blob,
        SourceEncryptionContext: sourceContext,
        DestinationKeyId: otherKey.KeyId,
        DestinationEncryptionContext: destinationContext,
      }),
    );
    assert.equal(moved.SourceKeyId, key.Arn);
    assert.equal(moved.KeyId, otherKey.Arn);
    assert.equal(moved.SourceEncryptionAlgorithm, 'SYMMETRIC_DEFAULT');
    assert.equal(moved.DestinationEncryptionAlgorithm, 'SYMMETRIC_DEFAULT');

    const decrypted = await kms.send(new DecryptCommand({ CiphertextBlob: moved.CiphertextBlob, EncryptionContext: destinationContext }));
    assert.equal(decrypted.KeyId, otherKey.Arn);
    assert.equal(Buffer.from(decrypted.Plaintext!).toString(), 'moving');
    await rejectsWith(kms.send(new DecryptCommand({ CiphertextBlob: moved.CiphertextBlob, EncryptionContext: sourceContext })), 'InvalidCiphertextException');
    await rejectsWith(kms.send(new DecryptCommand({ CiphertextBlob: moved.CiphertextBlob, KeyId: key.KeyId, EncryptionContext: destinationContext })), 'IncorrectKeyException');
  });

  it('needs the source encryption context: InvalidCiphertextException without it', async () => {
    const blob = await encrypt(Buffer.from('moving'), { stage: 'source' });
    await rejectsWith(kms.send(new ReEncryptCommand({ CiphertextBlob: blob, DestinationKeyId: otherKey.KeyId })), 'InvalidCiphertextException');
  });

  it('refuses a SourceKeyId that is not the encrypting key with IncorrectKeyException', async () => {
    const blob = await encrypt(Buffer.from('moving'));
    const wrongSource = new ReEncryptCommand({ CiphertextBlob: blob, SourceKeyId: otherKey.KeyId, DestinationKeyId: otherKey.KeyId });
    await rejectsWith(kms.send(wrongSource), 'IncorrectKeyException');
  });

  it('refuses a disabled destination key with DisabledException', async () => {
    const disabled = await createKey(kms);
    await kms.send(new DisableKeyCommand({ KeyId: disabled.KeyId }));
    const blob = await encrypt(Buffer.from('moving'));
    await rejectsWith(kms.send(new ReEncryptCommand({ CiphertextBlob: blob, DestinationKeyId: disabled.KeyId })), 'DisabledException');
  });
});

describe('GenerateDataKey', () => {
  for (const [spec, bytes] of [
    ['AES_256', 32],
    ['AES_128', 16],
  ] as const) {
    it(`KeySpec ${spec} gives a ${bytes}-byte key whose CiphertextBlob decrypts to the Plaintext`, async () => {
      const dataKey = await kms.send(new GenerateDataKeyCommand({ KeyId: key.KeyId, KeySpec: spec }));
      assert.equal(dataKey.KeyId, key.Arn);
      assert.equal(dataKey.Plaintext?.length, bytes);
      assert.deepEqual(await decrypt(dataKey.CiphertextBlob!), Buffer.from(dataKey.Plaintext!));
    });
  }

  it('NumberOfBytes 64 gives 64 bytes, bound to the encryption context', async () => {
    const context = { purpose: 'envelope' };
    const dataKey = await kms.send(new GenerateDataKeyCommand({ KeyId: aliasName, NumberOfBytes: 64, EncryptionContext: context }));
    assert.equal(dataKey.Plaintext?.length, 64);
    assert.deepEqual(await decrypt(dataKey.CiphertextBlob!, context), Buffer.from(dataKey.Plaintext!));
    await rejectsWith(kms.send(new DecryptCommand({ CiphertextBlob: dataKey.CiphertextBlob })), 'InvalidCiphertextException');
  });

  it('gives a different key each time', async () => {
    const first = await kms.send(new GenerateDataKeyCommand({ KeyId: key.KeyId, KeySpec: 'AES_256' }));
    const second = await kms.send(new GenerateDataKeyCommand({ KeyId: key.KeyId, KeySpec: 'AES_256' }));
    assert.notDeepEqual(Buffer.from(first.Plaintext!), Buffer.from(second.Plaintext!));
  });

  it('refuses neither KeySpec nor NumberOfBytes, and both, with ValidationException', async () => {
    await rejectsWith(kms.send(new GenerateDataKeyCommand({ KeyId: key.KeyId })), 'ValidationException');
    await rejectsWith(kms.send(new GenerateDataKeyCommand({ KeyId: key.KeyId, KeySpec: 'AES_256', NumberOfBytes: 32 })), 'ValidationException');
  });

  it('refuses NumberOfBytes 0 and 1025 with ValidationException', async () => {
    await rejectsWith(kms.send(new GenerateDataKeyCommand({ KeyId: key.KeyId, NumberOfBytes: 0 })), 'ValidationException');
    await rejectsWith(kms.send(new GenerateDataKeyCommand({ KeyId: key.KeyId, NumberOfBytes: 1025 })), 'ValidationException');
  });

  it('refuses a disabled key with DisabledException', async () => {
    const disabled = await createKey(kms);
    await kms.send(new DisableKeyCommand({ KeyId: disabled.KeyId }));
    await rejectsWith(kms.send(new GenerateDataKeyCommand({ KeyId: disabled.KeyId, KeySpec: 'AES_256' })), 'DisabledException');
  });
});

describe('GenerateDataKeyWithoutPlaintext', () => {
  it('returns no Plaintext; its CiphertextBlob decrypts to a 32-byte key', async () => {
    const dataKey = await kms.send(new GenerateDataKeyWithoutPlaintextCommand({ KeyId: key.KeyId, KeySpec: 'AES_256' }));
    assert.equal('Plaintext' in dataKey, false);
    assert.equal(dataKey.KeyId, key.Arn);
    assert.equal((await decrypt(dataKey.CiphertextBlob!)).length, 32);
  });

  it('refuses neither KeySpec nor NumberOfBytes with ValidationException', async () => {
    await rejectsWith(kms.send(new GenerateDataKeyWithoutPlaintextCommand({ KeyId: key.KeyId })), 'ValidationException');
  });
});

describe('GenerateRandom', () => {
  for (const bytes of [1, 32, 1024]) {
    it(`returns ${bytes} random bytes`, async () => {
      const { Plaintext } = await kms.send(new GenerateRandomCommand({ NumberOfBytes: bytes }));
      assert.equal(Plaintext?.length, bytes);
    });
  }

  it('returns different bytes on each call', async () => {
    const first = await kms.send(new GenerateRandomCommand({ NumberOfBytes: 32 }));
    const second = await kms.send(new GenerateRandomCommand({ NumberOfBytes: 32 }));
    assert.notDeepEqual(Buffer.from(first.Plaintext!), Buffer.from(second.Plaintext!));
  });

  it('refuses 0 and 1025 bytes, and a missing NumberOfBytes, with ValidationException', async () => {
    await rejectsWith(kms.send(new GenerateRandomCommand({ NumberOfBytes: 0 })), 'ValidationException');
    await rejectsWith(kms.send(new GenerateRandomCommand({ NumberOfBytes: 1025 })), 'ValidationException');
    await rejectsWith(kms.send(new GenerateRandomCommand({})), 'ValidationException');
  });
});

describe('DryRun', () => {
  it('answers DryRunOperationException (HTTP 412) for requests that would succeed', async () => {
    const blob = await encrypt(Buffer.from('dry'));
    await rejectsWith(kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('dry'), DryRun: true })), 'DryRunOperationException', 412);
    await rejectsWith(kms.send(new DecryptCommand({ CiphertextBlob: blob, DryRun: true })), 'DryRunOperationException', 412);
    await rejectsWith(kms.send(new GenerateDataKeyCommand({ KeyId: key.KeyId, KeySpec: 'AES_256', DryRun: true })), 'DryRunOperationException', 412);
    const reEncrypt = new ReEncryptCommand({ CiphertextBlob: blob, DestinationKeyId: otherKey.KeyId, DryRun: true });
    await rejectsWith(kms.send(reEncrypt), 'DryRunOperationException', 412);
  });

  it('reports the real error for a request that would fail', async () => {
    const disabled = await createKey(kms);
    await kms.send(new DisableKeyCommand({ KeyId: disabled.KeyId }));
    await rejectsWith(kms.send(new EncryptCommand({ KeyId: disabled.KeyId, Plaintext: Buffer.from('dry'), DryRun: true })), 'DisabledException');
  });
});
