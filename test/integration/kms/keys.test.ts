import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  EncryptCommand,
  GetKeyPolicyCommand,
  ListKeysCommand,
  ListResourceTagsCommand,
  UpdateKeyDescriptionCommand,
  type KMSClient,
} from '@aws-sdk/client-kms';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';
import { createKey, rejectsWith, uniqueAliasName } from '../../helpers/kms.js';

const ACCOUNT_ID = '000000000000';

let server: TestServer;
let kms: KMSClient;

before(async () => {
  server = await startTestServer();
  kms = server.kms();
});
after(async () => server.cleanup());

describe('CreateKey', () => {
  it('creates an enabled symmetric encryption key with AWS defaults', async () => {
    const before = Date.now();
    const key = await createKey(kms);
    assert.match(key.KeyId!, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.equal(key.Arn, `arn:aws:kms:us-east-1:${ACCOUNT_ID}:key/${key.KeyId}`);
    assert.equal(key.AWSAccountId, ACCOUNT_ID);
    assert.equal(key.KeyState, 'Enabled');
    assert.equal(key.Enabled, true);
    assert.equal(key.KeyUsage, 'ENCRYPT_DECRYPT');
    assert.equal(key.KeySpec, 'SYMMETRIC_DEFAULT');
    assert.equal(key.CustomerMasterKeySpec, 'SYMMETRIC_DEFAULT');
    assert.equal(key.Origin, 'AWS_KMS');
    assert.equal(key.KeyManager, 'CUSTOMER');
    assert.equal(key.Description, '');
    assert.deepEqual(key.EncryptionAlgorithms, ['SYMMETRIC_DEFAULT']);
    assert.equal(key.MultiRegion, false);
    assert.equal(key.DeletionDate, undefined);
    assert.ok(key.CreationDate instanceof Date);
    // Timestamps travel as epoch seconds with fractions; allow a second of rounding either way.
    assert.ok(key.CreationDate.getTime() >= before - 1000 && key.CreationDate.getTime() <= Date.now() + 1000);
  });

  it('gives every key a new id', async () => {
    const first = await createKey(kms);
    const second = await createKey(kms);
    assert.notEqual(first.KeyId, second.KeyId);
  });

  it('stores the Description', async () => {
    const key = await createKey(kms, { Description: 'payroll data key' });
    assert.equal(key.Description, 'payroll data key');
    const { KeyMetadata } = await kms.send(new DescribeKeyCommand({ KeyId: key.KeyId }));
    assert.equal(KeyMetadata?.Description, 'payroll data key');
  });

  it('stores the Tags, which ListResourceTags returns', async () => {
    const tags = [
      { TagKey: 'team', TagValue: 'payments' },
      { TagKey: 'env', TagValue: 'prod' },
    ];
    const key = await createKey(kms, { Tags: tags });
    const { Tags } = await kms.send(new ListResourceTagsCommand({ KeyId: key.KeyId }));
    assert.deepEqual(sortTags(Tags ?? []), sortTags(tags));
  });

  it('stores the Policy, which GetKeyPolicy returns unchanged', async () => {
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Sid: 'root', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT_ID}:root` }, Action: 'kms:*', Resource: '*' }],
    });
    const key = await createKey(kms, { Policy: policy });
    const { Policy } = await kms.send(new GetKeyPolicyCommand({ KeyId: key.KeyId, PolicyName: 'default' }));
    assert.equal(Policy, policy);
  });

  it('refuses SM2 (China Regions only) with UnsupportedOperationException', async () => {
    await rejectsWith(kms.send(new CreateKeyCommand({ KeySpec: 'SM2', KeyUsage: 'SIGN_VERIFY' })), 'UnsupportedOperationException');
  });

  it('refuses CloudHSM, external-key-store and custom-key-store keys with UnsupportedOperationException (imported material: import.test.ts; multi-Region keys: multi-region.test.ts)', async () => {
    await rejectsWith(kms.send(new CreateKeyCommand({ Origin: 'AWS_CLOUDHSM' })), 'UnsupportedOperationException');
    await rejectsWith(kms.send(new CreateKeyCommand({ Origin: 'EXTERNAL_KEY_STORE' })), 'UnsupportedOperationException');
    await rejectsWith(kms.send(new CreateKeyCommand({ CustomKeyStoreId: 'cks-1234567890abcdef0' })), 'UnsupportedOperationException');
  });

  it('refuses SYMMETRIC_DEFAULT with SIGN_VERIFY with ValidationException', async () => {
    await rejectsWith(kms.send(new CreateKeyCommand({ KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'SIGN_VERIFY' })), 'ValidationException');
  });

  it('refuses a KeySpec outside the enum with ValidationException', async () => {
    const error = await rejectsWith(kms.send(new CreateKeyCommand({ KeySpec: 'AES_1024' as never })), 'ValidationException');
    assert.match(error.message, /keySpec/);
  });

  it('refuses KeySpec together with the deprecated CustomerMasterKeySpec with ValidationException', async () => {
    const both = new CreateKeyCommand({ KeySpec: 'SYMMETRIC_DEFAULT', CustomerMasterKeySpec: 'SYMMETRIC_DEFAULT' });
    await rejectsWith(kms.send(both), 'ValidationException');
  });

  it('refuses a Policy that is not a JSON policy document with MalformedPolicyDocumentException', async () => {
    await rejectsWith(kms.send(new CreateKeyCommand({ Policy: 'this is not json' })), 'MalformedPolicyDocumentException');
    await rejectsWith(kms.send(new CreateKeyCommand({ Policy: '["a", "list"]' })), 'MalformedPolicyDocumentException');
    await rejectsWith(kms.send(new CreateKeyCommand({ Policy: '{"Version":"2012-10-17"}' })), 'MalformedPolicyDocumentException');
    await rejectsWith(kms.send(new CreateKeyCommand({ Policy: '{"Version":"2012-10-17","Statement":null}' })), 'MalformedPolicyDocumentException');
  });

  it('refuses a tag key in the reserved aws: namespace with TagException', async () => {
    const reserved = new CreateKeyCommand({ Tags: [{ TagKey: 'aws:createdBy', TagValue: 'me' }] });
    await rejectsWith(kms.send(reserved), 'TagException');
  });

  it('creates nothing when the request is refused', async () => {
    // A region of its own, so an empty listing proves no key was left behind.
    const isolated = server.kms({ region: 'ca-central-1' });
    await rejectsWith(isolated.send(new CreateKeyCommand({ Tags: [{ TagKey: 'aws:x', TagValue: 'y' }] })), 'TagException');
    await rejectsWith(isolated.send(new CreateKeyCommand({ KeySpec: 'RSA_4096' })), 'ValidationException');
    await rejectsWith(isolated.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'ENCRYPT_DECRYPT' })), 'ValidationException');
    const { Keys } = await isolated.send(new ListKeysCommand({}));
    assert.deepEqual(Keys, []);
  });
});

describe('DescribeKey', () => {
  let key: Awaited<ReturnType<typeof createKey>>;
  let aliasName: string;

  before(async () => {
    key = await createKey(kms, { Description: 'described' });
    aliasName = uniqueAliasName('describe');
    await kms.send(new CreateAliasCommand({ AliasName: aliasName, TargetKeyId: key.KeyId }));
  });

  for (const [form, reference] of [
    ['key id', () => key.KeyId!],
    ['key ARN', () => key.Arn!],
    ['alias name', () => aliasName],
    ['alias ARN', () => `arn:aws:kms:us-east-1:${ACCOUNT_ID}:${aliasName}`],
  ] as const) {
    it(`finds the key by its ${form}`, async () => {
      const { KeyMetadata } = await kms.send(new DescribeKeyCommand({ KeyId: reference() }));
      assert.equal(KeyMetadata?.KeyId, key.KeyId);
      assert.equal(KeyMetadata?.Arn, key.Arn);
      assert.equal(KeyMetadata?.Description, 'described');
    });
  }

  it('answers NotFoundException for a key id that does not exist', async () => {
    const missing = randomUUID();
    const error = await rejectsWith(kms.send(new DescribeKeyCommand({ KeyId: missing })), 'NotFoundException');
    assert.match(error.message, new RegExp(missing));
  });

  it('answers NotFoundException for a string that is not a key id', async () => {
    await rejectsWith(kms.send(new DescribeKeyCommand({ KeyId: 'not-a-key-id' })), 'NotFoundException');
  });

  it('answers NotFoundException for an alias that does not exist', async () => {
    await rejectsWith(kms.send(new DescribeKeyCommand({ KeyId: 'alias/never-created' })), 'NotFoundException');
  });

  it('answers NotFoundException for a key in another region, by id and by ARN', async () => {
    const elsewhere = server.kms({ region: 'eu-west-1' });
    await rejectsWith(elsewhere.send(new DescribeKeyCommand({ KeyId: key.KeyId })), 'NotFoundException');
    await rejectsWith(elsewhere.send(new DescribeKeyCommand({ KeyId: key.Arn })), 'NotFoundException');
    await rejectsWith(elsewhere.send(new DescribeKeyCommand({ KeyId: aliasName })), 'NotFoundException');
  });

  it('refuses a key ARN naming another account where no key is with AccessDeniedException, as one that exists would be', async () => {
    const foreign = key.Arn!.replace(`:${ACCOUNT_ID}:`, ':111122223333:');
    const denied = await rejectsWith(kms.send(new DescribeKeyCommand({ KeyId: foreign })), 'AccessDeniedException');
    assert.match(denied.message, new RegExp(`kms:DescribeKey on resource: ${foreign} `));
  });

  it('refuses an empty KeyId with ValidationException', async () => {
    await rejectsWith(kms.send(new DescribeKeyCommand({ KeyId: '' })), 'ValidationException');
  });
});

describe('ListKeys', () => {
  // A region of its own, so the listing holds exactly the keys this block creates.
  let regional: KMSClient;
  const created = new Set<string>();

  before(async () => {
    regional = server.kms({ region: 'ap-southeast-2' });
    for (let i = 0; i < 7; i += 1) created.add((await createKey(regional)).KeyId!);
  });

  it('pages with Limit and Marker, showing every key exactly once', async () => {
    const seen: string[] = [];
    const truncatedFlags: boolean[] = [];
    let marker: string | undefined;
    do {
      const page = await regional.send(new ListKeysCommand({ Limit: 3, Marker: marker }));
      assert.ok((page.Keys?.length ?? 0) <= 3);
      for (const entry of page.Keys ?? []) {
        seen.push(entry.KeyId!);
        assert.equal(entry.KeyArn, `arn:aws:kms:ap-southeast-2:${ACCOUNT_ID}:key/${entry.KeyId}`);
      }
      truncatedFlags.push(page.Truncated === true);
      assert.equal(page.Truncated === true, page.NextMarker !== undefined, 'NextMarker is present exactly when Truncated');
      marker = page.NextMarker;
    } while (marker !== undefined);

    assert.equal(seen.length, 7);
    assert.equal(new Set(seen).size, 7, 'no key appears twice');
    assert.deepEqual(new Set(seen), created);
    assert.deepEqual(truncatedFlags, [true, true, false]);
  });

  it('returns all keys in one page without Limit', async () => {
    const page = await regional.send(new ListKeysCommand({}));
    assert.equal(page.Truncated, false);
    assert.equal(page.NextMarker, undefined);
    assert.deepEqual(new Set(page.Keys?.map((entry) => entry.KeyId)), created);
  });

  it('lists only the keys of the caller\'s region', async () => {
    const page = await server.kms({ region: 'sa-east-1' }).send(new ListKeysCommand({}));
    assert.deepEqual(page.Keys, []);
    assert.equal(page.Truncated, false);
  });

  it('refuses a marker it did not hand out with InvalidMarkerException', async () => {
    await rejectsWith(regional.send(new ListKeysCommand({ Marker: 'not-a-marker' })), 'InvalidMarkerException');
  });

  it('refuses Limit 0 and 1001 with ValidationException', async () => {
    await rejectsWith(regional.send(new ListKeysCommand({ Limit: 0 })), 'ValidationException');
    await rejectsWith(regional.send(new ListKeysCommand({ Limit: 1001 })), 'ValidationException');
  });
});

describe('DisableKey and EnableKey', () => {
  it('a disabled key refuses Encrypt and Decrypt with DisabledException until it is enabled again', async () => {
    const key = await createKey(kms);
    const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('before') }));

    await kms.send(new DisableKeyCommand({ KeyId: key.KeyId }));
    const disabled = await kms.send(new DescribeKeyCommand({ KeyId: key.KeyId }));
    assert.equal(disabled.KeyMetadata?.KeyState, 'Disabled');
    assert.equal(disabled.KeyMetadata?.Enabled, false);
    const error = await rejectsWith(kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') })), 'DisabledException');
    assert.match(error.message, new RegExp(key.Arn!));
    await rejectsWith(kms.send(new DecryptCommand({ CiphertextBlob })), 'DisabledException');

    await kms.send(new EnableKeyCommand({ KeyId: key.Arn }));
    const enabled = await kms.send(new DescribeKeyCommand({ KeyId: key.KeyId }));
    assert.equal(enabled.KeyMetadata?.KeyState, 'Enabled');
    assert.equal(enabled.KeyMetadata?.Enabled, true);
    const decrypted = await kms.send(new DecryptCommand({ CiphertextBlob }));
    assert.equal(Buffer.from(decrypted.Plaintext!).toString(), 'before');
    await kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('after') }));
  });

  it('disabling a disabled key and enabling an enabled key are no-ops', async () => {
    const key = await createKey(kms);
    await kms.send(new EnableKeyCommand({ KeyId: key.KeyId }));
    await kms.send(new DisableKeyCommand({ KeyId: key.KeyId }));
    await kms.send(new DisableKeyCommand({ KeyId: key.KeyId }));
    const { KeyMetadata } = await kms.send(new DescribeKeyCommand({ KeyId: key.KeyId }));
    assert.equal(KeyMetadata?.KeyState, 'Disabled');
  });

  it('takes a key id or key ARN but not an alias: NotFoundException', async () => {
    const key = await createKey(kms);
    const aliasName = uniqueAliasName('disable');
    await kms.send(new CreateAliasCommand({ AliasName: aliasName, TargetKeyId: key.KeyId }));
    await rejectsWith(kms.send(new DisableKeyCommand({ KeyId: aliasName })), 'NotFoundException');
    const { KeyMetadata } = await kms.send(new DescribeKeyCommand({ KeyId: key.KeyId }));
    assert.equal(KeyMetadata?.KeyState, 'Enabled');
  });

  it('answers NotFoundException for a key that does not exist', async () => {
    await rejectsWith(kms.send(new EnableKeyCommand({ KeyId: randomUUID() })), 'NotFoundException');
    await rejectsWith(kms.send(new DisableKeyCommand({ KeyId: randomUUID() })), 'NotFoundException');
  });
});

describe('UpdateKeyDescription', () => {
  it('replaces the description, also with an empty one', async () => {
    const key = await createKey(kms, { Description: 'old' });
    await kms.send(new UpdateKeyDescriptionCommand({ KeyId: key.Arn, Description: 'new description' }));
    const updated = await kms.send(new DescribeKeyCommand({ KeyId: key.KeyId }));
    assert.equal(updated.KeyMetadata?.Description, 'new description');

    await kms.send(new UpdateKeyDescriptionCommand({ KeyId: key.KeyId, Description: '' }));
    const cleared = await kms.send(new DescribeKeyCommand({ KeyId: key.KeyId }));
    assert.equal(cleared.KeyMetadata?.Description, '');
  });

  it('works on a disabled key', async () => {
    const key = await createKey(kms);
    await kms.send(new DisableKeyCommand({ KeyId: key.KeyId }));
    await kms.send(new UpdateKeyDescriptionCommand({ KeyId: key.KeyId, Description: 'while disabled' }));
    const { KeyMetadata } = await kms.send(new DescribeKeyCommand({ KeyId: key.KeyId }));
    assert.equal(KeyMetadata?.Description, 'while disabled');
  });

  it('refuses a description longer than 8192 characters with ValidationException', async () => {
    const key = await createKey(kms);
    await rejectsWith(kms.send(new UpdateKeyDescriptionCommand({ KeyId: key.KeyId, Description: 'x'.repeat(8193) })), 'ValidationException');
  });

  it('answers NotFoundException for a key that does not exist', async () => {
    await rejectsWith(kms.send(new UpdateKeyDescriptionCommand({ KeyId: randomUUID(), Description: 'x' })), 'NotFoundException');
  });
});

function sortTags(tags: { TagKey?: string; TagValue?: string }[]) {
  return [...tags].sort((a, b) => (a.TagKey ?? '').localeCompare(b.TagKey ?? ''));
}
