import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GetKeyPolicyCommand,
  PutKeyPolicyCommand,
  TagResourceCommand,
  type KMSClient,
} from '@aws-sdk/client-kms';
import { shell } from '../../helpers/aws-cli.js';
import { createKey, rejectsWith, uniqueAliasName } from '../../helpers/kms.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

const ACCOUNT_ID = '000000000000';
const ROOT = `arn:aws:iam::${ACCOUNT_ID}:root`;

type Statement = Record<string, unknown>;

function policy(...statements: Statement[]): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}

/** The statement of the default key policy: the account root may do everything (delegation to IAM). */
const rootAll: Statement = { Sid: 'root', Effect: 'Allow', Principal: { AWS: ROOT }, Action: 'kms:*', Resource: '*' };

let server: TestServer;
let kms: KMSClient;

before(async () => {
  server = await startTestServer();
  kms = server.kms();
});
after(async () => server.cleanup());

describe('key policies are enforced', () => {
  it('refuses a caller the key policy does not allow, naming principal, action and key ARN', async () => {
    const key = await createKey(kms, {
      Policy: policy({ Sid: 'someone-else', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111111111111:root' }, Action: 'kms:*', Resource: '*' }),
      BypassPolicyLockoutSafetyCheck: true,
    });
    const denied = await rejectsWith(kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') })), 'AccessDeniedException');
    assert.equal(
      denied.message,
      `User: ${ROOT} is not authorized to perform: kms:Encrypt on resource: ${key.Arn} because no resource-based policy allows the kms:Encrypt action`,
    );
    const described = await rejectsWith(kms.send(new DescribeKeyCommand({ KeyId: key.Arn })), 'AccessDeniedException');
    assert.match(described.message, /kms:DescribeKey/);
    await rejectsWith(kms.send(new GetKeyPolicyCommand({ KeyId: key.KeyId })), 'AccessDeniedException');
  });

  it('an explicit deny in the key policy beats the statement allowing the account root', async () => {
    const key = await createKey(kms, {
      Policy: policy(rootAll, { Sid: 'no-decrypt', Effect: 'Deny', Principal: { AWS: '*' }, Action: 'kms:Decrypt', Resource: '*' }),
    });
    const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('secret') }));
    const denied = await rejectsWith(kms.send(new DecryptCommand({ CiphertextBlob })), 'AccessDeniedException');
    assert.equal(
      denied.message,
      `User: ${ROOT} is not authorized to perform: kms:Decrypt on resource: ${key.Arn} with an explicit deny in a resource-based policy`,
    );
  });

  it('conditions see the encryption context (kms:EncryptionContext:<key>, kms:EncryptionContextKeys)', async () => {
    const key = await createKey(kms, {
      Policy: policy(
        rootAll,
        {
          Sid: 'blue-team-only',
          Effect: 'Deny',
          Principal: { AWS: '*' },
          Action: 'kms:Encrypt',
          Resource: '*',
          Condition: { StringNotEquals: { 'kms:EncryptionContext:team': 'blue' } },
        },
        {
          Sid: 'no-extra-keys',
          Effect: 'Deny',
          Principal: { AWS: '*' },
          Action: 'kms:GenerateDataKey',
          Resource: '*',
          Condition: { 'ForAnyValue:StringEquals': { 'kms:EncryptionContextKeys': 'forbidden' } },
        },
      ),
    });
    await kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x'), EncryptionContext: { team: 'blue' } }));
    await rejectsWith(
      kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x'), EncryptionContext: { team: 'red' } })),
      'AccessDeniedException',
    );
    await rejectsWith(kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') })), 'AccessDeniedException');
    await kms.send(new GenerateDataKeyCommand({ KeyId: key.KeyId, KeySpec: 'AES_256', EncryptionContext: { allowed: '1' } }));
    await rejectsWith(
      kms.send(new GenerateDataKeyCommand({ KeyId: key.KeyId, KeySpec: 'AES_256', EncryptionContext: { forbidden: '1' } })),
      'AccessDeniedException',
    );
  });

  it('kms:RequestAlias is the alias the caller named, and aws:ResourceTag/<key> the key\'s tags', async () => {
    const aliasName = uniqueAliasName('request-alias');
    const key = await createKey(kms, {
      Policy: policy(
        rootAll,
        {
          Sid: 'not-through-this-alias',
          Effect: 'Deny',
          Principal: { AWS: '*' },
          Action: 'kms:Encrypt',
          Resource: '*',
          Condition: { StringEquals: { 'kms:RequestAlias': aliasName } },
        },
        {
          Sid: 'locked-keys-hide',
          Effect: 'Deny',
          Principal: { AWS: '*' },
          Action: 'kms:DescribeKey',
          Resource: '*',
          Condition: { StringEquals: { 'aws:ResourceTag/locked': 'yes' } },
        },
      ),
    });
    await kms.send(new CreateAliasCommand({ AliasName: aliasName, TargetKeyId: key.KeyId }));
    await kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') }));
    await rejectsWith(kms.send(new EncryptCommand({ KeyId: aliasName, Plaintext: Buffer.from('x') })), 'AccessDeniedException');

    await kms.send(new DescribeKeyCommand({ KeyId: key.KeyId }));
    await kms.send(new TagResourceCommand({ KeyId: key.KeyId, Tags: [{ TagKey: 'locked', TagValue: 'yes' }] }));
    await rejectsWith(kms.send(new DescribeKeyCommand({ KeyId: key.KeyId })), 'AccessDeniedException');
  });

  it('kms:KeySpec and kms:KeyUsage describe the key', async () => {
    const key = await createKey(kms, {
      Policy: policy({ ...rootAll, Condition: { StringEquals: { 'kms:KeySpec': 'SYMMETRIC_DEFAULT', 'kms:KeyUsage': 'ENCRYPT_DECRYPT' } } }, {
        Sid: 'manage',
        Effect: 'Allow',
        Principal: { AWS: ROOT },
        Action: 'kms:PutKeyPolicy',
        Resource: '*',
      }),
    });
    await kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') }));
    await kms.send(
      new PutKeyPolicyCommand({
        KeyId: key.KeyId,
        Policy: policy({ ...rootAll, Condition: { StringEquals: { 'kms:KeySpec': 'RSA_2048' } } }, { ...rootAll, Sid: 'manage', Action: 'kms:PutKeyPolicy' }),
      }),
    );
    await rejectsWith(kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') })), 'AccessDeniedException');
  });
});

describe('MalformedPolicyDocumentException', () => {
  it('refuses policies the policy engine rejects, with a message that says what is wrong', async () => {
    const cases: Array<[string, RegExp]> = [
      ['{"Version": "2012-10-17", "Statement": [', /JSON syntax/],
      [policy({ Effect: 'Allow', Action: 'kms:*', Resource: '*' }), /Principal/],
      [policy({ Effect: 'Allow', Principal: { AWS: ROOT }, Action: 'kms:*', Resource: '*', Condition: { StringEqualz: { 'kms:KeySpec': 'x' } } }), /StringEqualz/],
      [policy({ Effect: 'Maybe', Principal: { AWS: ROOT }, Action: 'kms:*', Resource: '*' }), /Effect/],
      [policy({ Effect: 'Allow', Principal: { AWS: 'not-an-arn' }, Action: 'kms:*', Resource: '*' }), /not-an-arn/],
    ];
    for (const [text, message] of cases) {
      const refused = await rejectsWith(kms.send(new CreateKeyCommand({ Policy: text })), 'MalformedPolicyDocumentException');
      assert.match(refused.message, message, text);
    }
    const key = await createKey(kms);
    const refused = await rejectsWith(kms.send(new PutKeyPolicyCommand({ KeyId: key.KeyId, Policy: cases[1]![0] })), 'MalformedPolicyDocumentException');
    assert.match(refused.message, /Principal/);
  });

  it('accepts a statement without Resource, as AWS does (the statement has no effect)', async () => {
    const key = await createKey(kms, { Policy: policy(rootAll, { Sid: 'inert', Effect: 'Deny', Principal: { AWS: '*' }, Action: 'kms:Encrypt' }) });
    await kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('still allowed') }));
  });

  it('the AWS CLI shows the error code', async () => {
    const key = await createKey(kms);
    const workDir = mkdtempSync(join(tmpdir(), 'coffer-kms-policy-'));
    try {
      const result = await shell(
        `aws kms put-key-policy --key-id ${key.KeyId} --policy-name default --policy '{"Statement": "nope"}' --endpoint-url "$COFFER_URL"`,
        { cwd: workDir, credentials: server.admin, region: 'us-east-1', env: { COFFER_URL: server.url } },
      );
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /MalformedPolicyDocumentException/);
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
  });
});

describe('the key policy lockout safety check', () => {
  const lockout = 'The new key policy will not allow you to update the key policy in the future.';
  const encryptOnly = policy({ Sid: 'use-only', Effect: 'Allow', Principal: { AWS: ROOT }, Action: ['kms:Encrypt', 'kms:Decrypt'], Resource: '*' });

  it('refuses a policy that would not let the caller call PutKeyPolicy again', async () => {
    const key = await createKey(kms);
    const refused = await rejectsWith(kms.send(new PutKeyPolicyCommand({ KeyId: key.KeyId, Policy: encryptOnly })), 'MalformedPolicyDocumentException');
    assert.equal(refused.message, lockout);
    const created = await rejectsWith(kms.send(new CreateKeyCommand({ Policy: encryptOnly })), 'MalformedPolicyDocumentException');
    assert.equal(created.message, lockout);
    const { Policy } = await kms.send(new GetKeyPolicyCommand({ KeyId: key.KeyId }));
    assert.equal(JSON.parse(Policy!).Statement[0].Action, 'kms:*', 'the old policy stays');
  });

  it('BypassPolicyLockoutSafetyCheck sets it anyway, and then the caller is locked out', async () => {
    const key = await createKey(kms);
    await kms.send(new PutKeyPolicyCommand({ KeyId: key.KeyId, Policy: encryptOnly, BypassPolicyLockoutSafetyCheck: true }));
    await kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') }));
    const denied = await rejectsWith(kms.send(new PutKeyPolicyCommand({ KeyId: key.KeyId, Policy: policy(rootAll) })), 'AccessDeniedException');
    assert.match(denied.message, /kms:PutKeyPolicy/);
    const bypassed = await createKey(kms, { Policy: encryptOnly, BypassPolicyLockoutSafetyCheck: true });
    await rejectsWith(kms.send(new DescribeKeyCommand({ KeyId: bypassed.KeyId })), 'AccessDeniedException');
  });
});
