import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateAliasCommand,
  CreateGrantCommand,
  CreateKeyCommand,
  DeleteAliasCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  ListRetirableGrantsCommand,
  PutKeyPolicyCommand,
  RetireGrantCommand,
  type KMSClient,
} from '@aws-sdk/client-kms';
import { CreateSecretCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { createKey, rejectsWith } from '../../helpers/kms.js';
import { assumeRole, createAccount, createRole, createUser, type Keys } from '../../helpers/principals.js';
import { secretsClient } from '../../helpers/secrets.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

const ACCOUNT_ID = '000000000000';
const ROOT = `arn:aws:iam::${ACCOUNT_ID}:root`;

function policy(...statements: object[]): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}

const rootAll = { Sid: 'root', Effect: 'Allow', Principal: { AWS: ROOT }, Action: 'kms:*', Resource: '*' };

let server: TestServer;
let admin: KMSClient;

before(async () => {
  server = await startTestServer();
  admin = server.kms();
});
after(async () => server.cleanup());

function kmsAs(keys: Keys): KMSClient {
  return server.kms({ credentials: keys });
}

describe('users and roles of the key\'s own account', () => {
  it('the default key policy delegates to IAM: a user needs an identity policy allowing the operation', async () => {
    const key = await createKey(admin);
    const bare = await createUser(server, server.admin, 'kms-bare-user');
    const denied = await rejectsWith(kmsAs(bare.keys).send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') })), 'AccessDeniedException');
    assert.equal(
      denied.message,
      `User: ${bare.arn} is not authorized to perform: kms:Encrypt on resource: ${key.Arn} because no identity-based policy allows the kms:Encrypt action`,
    );

    const allowed = await createUser(server, server.admin, 'kms-encrypt-user', {
      policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['kms:Encrypt', 'kms:DescribeKey'], Resource: key.Arn }] },
    });
    await kmsAs(allowed.keys).send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') }));
    await kmsAs(allowed.keys).send(new DescribeKeyCommand({ KeyId: key.Arn }));
    await rejectsWith(kmsAs(allowed.keys).send(new DisableKeyCommand({ KeyId: key.KeyId })), 'AccessDeniedException');
    const other = await createKey(admin);
    await rejectsWith(kmsAs(allowed.keys).send(new EncryptCommand({ KeyId: other.KeyId, Plaintext: Buffer.from('x') })), 'AccessDeniedException');
  });

  it('a key policy naming the user allows it without any identity policy', async () => {
    const user = await createUser(server, server.admin, 'kms-named-user');
    const key = await createKey(admin, {
      Policy: policy(rootAll, { Sid: 'user', Effect: 'Allow', Principal: { AWS: user.arn }, Action: ['kms:Encrypt', 'kms:Decrypt'], Resource: '*' }),
    });
    const { CiphertextBlob } = await kmsAs(user.keys).send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('named') }));
    const { Plaintext } = await kmsAs(user.keys).send(new DecryptCommand({ CiphertextBlob }));
    assert.equal(Buffer.from(Plaintext!).toString(), 'named');
  });

  it('a key policy naming a user or role that does not exist is MalformedPolicyDocumentException', async () => {
    const ghost = (arn: string) => policy(rootAll, { Sid: 'ghost', Effect: 'Allow', Principal: { AWS: arn }, Action: 'kms:Decrypt', Resource: '*' });
    for (const arn of [`arn:aws:iam::${ACCOUNT_ID}:user/nobody-here`, `arn:aws:iam::${ACCOUNT_ID}:role/no-such-role`, `arn:aws:iam::${ACCOUNT_ID}:user/*`]) {
      const refused = await rejectsWith(admin.send(new CreateKeyCommand({ Policy: ghost(arn) })), 'MalformedPolicyDocumentException');
      assert.equal(refused.message, 'Policy contains a statement with one or more invalid principals.');
    }
    const key = await createKey(admin);
    await rejectsWith(admin.send(new PutKeyPolicyCommand({ KeyId: key.KeyId, Policy: ghost(`arn:aws:iam::${ACCOUNT_ID}:user/nobody-here`) })), 'MalformedPolicyDocumentException');
    const real = await createUser(server, server.admin, 'nobody-here');
    await admin.send(new PutKeyPolicyCommand({ KeyId: key.KeyId, Policy: ghost(real.arn) }));
  });

  it('an explicit deny in the key policy beats the user\'s identity policy', async () => {
    const user = await createUser(server, server.admin, 'kms-denied-user', {
      policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:*', Resource: '*' }] },
    });
    const key = await createKey(admin, {
      Policy: policy(rootAll, { Sid: 'deny-user', Effect: 'Deny', Principal: { AWS: user.arn }, Action: 'kms:Decrypt', Resource: '*' }),
    });
    const { CiphertextBlob } = await kmsAs(user.keys).send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') }));
    const denied = await rejectsWith(kmsAs(user.keys).send(new DecryptCommand({ CiphertextBlob })), 'AccessDeniedException');
    assert.match(denied.message, /explicit deny in a resource-based policy/);
  });

  it('a grant with EncryptionContextSubset lets its grantee decrypt only with that context; retiring ends it', async () => {
    const grantee = await createUser(server, server.admin, 'kms-grantee');
    const key = await createKey(admin);
    const context = { tenant: 'acme', purpose: 'billing' };
    const { CiphertextBlob } = await admin.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('acme data'), EncryptionContext: context }));
    const { CiphertextBlob: otherBlob } = await admin.send(
      new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('globex data'), EncryptionContext: { tenant: 'globex' } }),
    );
    const asGrantee = kmsAs(grantee.keys);
    await rejectsWith(asGrantee.send(new DecryptCommand({ CiphertextBlob, EncryptionContext: context })), 'AccessDeniedException');

    const { GrantToken } = await admin.send(
      new CreateGrantCommand({
        KeyId: key.KeyId,
        GranteePrincipal: grantee.arn,
        RetiringPrincipal: grantee.arn,
        Operations: ['Decrypt'],
        Constraints: { EncryptionContextSubset: { tenant: 'acme' } },
      }),
    );
    const { Plaintext } = await asGrantee.send(new DecryptCommand({ CiphertextBlob, EncryptionContext: context, GrantTokens: [GrantToken!] }));
    assert.equal(Buffer.from(Plaintext!).toString(), 'acme data');
    await rejectsWith(asGrantee.send(new DecryptCommand({ CiphertextBlob: otherBlob, EncryptionContext: { tenant: 'globex' } })), 'AccessDeniedException');
    await rejectsWith(asGrantee.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x'), EncryptionContext: context })), 'AccessDeniedException');

    // The retiring principal lists and retires the grant without any identity policy for RetireGrant.
    await rejectsWith(asGrantee.send(new ListRetirableGrantsCommand({ RetiringPrincipal: grantee.arn })), 'AccessDeniedException');
    await asGrantee.send(new RetireGrantCommand({ GrantToken }));
    await rejectsWith(asGrantee.send(new DecryptCommand({ CiphertextBlob, EncryptionContext: context })), 'AccessDeniedException');
  });

  it('aliases need the permission on the alias and on the key; CreateKey with Tags needs kms:TagResource', async () => {
    const key = await createKey(admin);
    const aliasArn = (name: string) => `arn:aws:kms:us-east-1:${ACCOUNT_ID}:${name}`;
    const user = await createUser(server, server.admin, 'kms-alias-admin', {
      policy: {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: ['kms:CreateAlias', 'kms:DeleteAlias'], Resource: [aliasArn('alias/team-*'), key.Arn] },
          { Effect: 'Allow', Action: 'kms:CreateKey', Resource: '*' },
        ],
      },
    });
    const asUser = kmsAs(user.keys);
    await asUser.send(new CreateAliasCommand({ AliasName: 'alias/team-billing', TargetKeyId: key.KeyId }));
    const wrongAlias = await rejectsWith(asUser.send(new CreateAliasCommand({ AliasName: 'alias/other-billing', TargetKeyId: key.KeyId })), 'AccessDeniedException');
    assert.match(wrongAlias.message, /alias\/other-billing/);
    const otherKey = await createKey(admin);
    const wrongKey = await rejectsWith(asUser.send(new CreateAliasCommand({ AliasName: 'alias/team-other', TargetKeyId: otherKey.KeyId })), 'AccessDeniedException');
    assert.match(wrongKey.message, new RegExp(otherKey.KeyId!));
    await asUser.send(new DeleteAliasCommand({ AliasName: 'alias/team-billing' }));

    await asUser.send(new CreateKeyCommand({ Description: 'untagged' }));
    const tagged = await rejectsWith(asUser.send(new CreateKeyCommand({ Tags: [{ TagKey: 'team', TagValue: 'a' }] })), 'AccessDeniedException');
    assert.match(tagged.message, /kms:TagResource/);
  });

  it('the lockout safety check counts the caller\'s identity policies, as AWS does', async () => {
    const creator = await createUser(server, server.admin, 'kms-key-creator', {
      policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:CreateKey', Resource: '*' }] },
    });
    const asCreator = kmsAs(creator.keys);
    // The root statement delegates to IAM, and this user's IAM policies do not allow kms:PutKeyPolicy.
    const refused = await rejectsWith(asCreator.send(new CreateKeyCommand({ Policy: policy(rootAll) })), 'MalformedPolicyDocumentException');
    assert.equal(refused.message, 'The new key policy will not allow you to update the key policy in the future.');
    // A policy naming the user directly keeps it in; no policy at all means the default one, which is not checked.
    await asCreator.send(new CreateKeyCommand({ Policy: policy(rootAll, { Sid: 'creator', Effect: 'Allow', Principal: { AWS: creator.arn }, Action: 'kms:*', Resource: '*' }) }));
    await asCreator.send(new CreateKeyCommand({}));
  });

  it('a grant to a role serves its sessions', async () => {
    const key = await createKey(admin);
    const role = await createRole(server, server.admin, 'kms-grant-role', {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { AWS: ROOT }, Action: 'sts:AssumeRole' }],
    });
    const session = await assumeRole(server, server.admin, role.arn, 'grant-session');
    await rejectsWith(kmsAs(session).send(new GenerateDataKeyCommand({ KeyId: key.KeyId, KeySpec: 'AES_256' })), 'AccessDeniedException');
    await admin.send(new CreateGrantCommand({ KeyId: key.KeyId, GranteePrincipal: role.arn, Operations: ['GenerateDataKey'] }));
    const dataKey = await kmsAs(session).send(new GenerateDataKeyCommand({ KeyId: key.Arn, KeySpec: 'AES_256' }));
    assert.equal(dataKey.Plaintext?.length, 32);
  });
});

describe('keys across accounts', () => {
  let other: { accountId: string; root: Keys };
  let reader: { arn: string; keys: Keys };
  let unpermitted: { arn: string; keys: Keys };

  before(async () => {
    other = await createAccount(server);
    reader = await createUser(server, other.root, 'cross-account-reader', {
      policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:DescribeKey'], Resource: '*' }] },
    });
    unpermitted = await createUser(server, other.root, 'cross-account-nobody');
  });

  function keyPolicyFor(externalPrincipal: string) {
    return policy(rootAll, {
      Sid: 'external-use',
      Effect: 'Allow',
      Principal: { AWS: externalPrincipal },
      Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:DescribeKey', 'kms:DisableKey'],
      Resource: '*',
    });
  }

  it('Decrypt finds the key from the ciphertext; it works only when the key policy and the external identity policy both allow', async () => {
    const key = await createKey(admin, { Policy: keyPolicyFor(`arn:aws:iam::${other.accountId}:root`) });
    const { CiphertextBlob } = await admin.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('shared secret') }));

    const { Plaintext, KeyId } = await kmsAs(reader.keys).send(new DecryptCommand({ CiphertextBlob }));
    assert.equal(Buffer.from(Plaintext!).toString(), 'shared secret');
    assert.equal(KeyId, key.Arn);

    // The key policy allows the other account, but this user's own policies do not.
    const denied = await rejectsWith(kmsAs(unpermitted.keys).send(new DecryptCommand({ CiphertextBlob })), 'AccessDeniedException');
    assert.equal(
      denied.message,
      `User: ${unpermitted.arn} is not authorized to perform: kms:Decrypt on resource: ${key.Arn} because no identity-based policy allows the kms:Decrypt action`,
    );

    // The user's policies allow, but the key policy does not name the other account.
    const closed = await createKey(admin);
    const { CiphertextBlob: closedBlob } = await admin.send(new EncryptCommand({ KeyId: closed.KeyId, Plaintext: Buffer.from('not shared') }));
    const refused = await rejectsWith(kmsAs(reader.keys).send(new DecryptCommand({ CiphertextBlob: closedBlob })), 'AccessDeniedException');
    assert.match(refused.message, /because no resource-based policy allows the kms:Decrypt action/);
  });

  it('a key of another account is named by its key ARN, for the operations AWS allows across accounts', async () => {
    const key = await createKey(admin, { Policy: keyPolicyFor(reader.arn) });
    const external = kmsAs(reader.keys);
    const { CiphertextBlob } = await external.send(new EncryptCommand({ KeyId: key.Arn, Plaintext: Buffer.from('from the other account') }));
    const { Plaintext } = await admin.send(new DecryptCommand({ CiphertextBlob }));
    assert.equal(Buffer.from(Plaintext!).toString(), 'from the other account');
    assert.equal((await external.send(new DescribeKeyCommand({ KeyId: key.Arn }))).KeyMetadata?.AWSAccountId, ACCOUNT_ID);
    // An alias ARN names a key of another account too; an alias name means the caller's own account.
    await admin.send(new CreateAliasCommand({ AliasName: 'alias/shared-across', TargetKeyId: key.KeyId }));
    const viaAlias = await external.send(
      new EncryptCommand({ KeyId: `arn:aws:kms:us-east-1:${ACCOUNT_ID}:alias/shared-across`, Plaintext: Buffer.from('via alias') }),
    );
    assert.equal(viaAlias.KeyId, key.Arn);
    await rejectsWith(external.send(new EncryptCommand({ KeyId: 'alias/shared-across', Plaintext: Buffer.from('x') })), 'NotFoundException');
    // A bare key id means a key of the caller's own account; management is never cross-account.
    await rejectsWith(external.send(new DescribeKeyCommand({ KeyId: key.KeyId })), 'NotFoundException');
    await rejectsWith(external.send(new DisableKeyCommand({ KeyId: key.Arn })), 'NotFoundException');
  });

  it('a grant to a principal of another account lets it use the key', async () => {
    const key = await createKey(admin);
    const context = { shared: 'yes' };
    const { CiphertextBlob } = await admin.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('granted across'), EncryptionContext: context }));
    await rejectsWith(kmsAs(reader.keys).send(new DecryptCommand({ CiphertextBlob, EncryptionContext: context })), 'AccessDeniedException');
    await admin.send(
      new CreateGrantCommand({ KeyId: key.KeyId, GranteePrincipal: reader.arn, Operations: ['Decrypt'], Constraints: { EncryptionContextEquals: context } }),
    );
    const { Plaintext } = await kmsAs(reader.keys).send(new DecryptCommand({ CiphertextBlob, EncryptionContext: context }));
    assert.equal(Buffer.from(Plaintext!).toString(), 'granted across');
  });

  it('the AWS managed key aws/secretsmanager cannot be used from another account', async () => {
    await secretsClient(server).send(new CreateSecretCommand({ Name: 'managed-key-stays-home', SecretString: 'home' }));
    const managed = (await admin.send(new DescribeKeyCommand({ KeyId: 'alias/aws/secretsmanager' }))).KeyMetadata!;
    await rejectsWith(kmsAs(reader.keys).send(new EncryptCommand({ KeyId: managed.Arn, Plaintext: Buffer.from('x') })), 'AccessDeniedException');
    await rejectsWith(kmsAs(reader.keys).send(new DescribeKeyCommand({ KeyId: managed.Arn })), 'AccessDeniedException');
    // In its own account it keeps serving Secrets Manager.
    const { SecretString } = await secretsClient(server).send(new GetSecretValueCommand({ SecretId: 'managed-key-stays-home' }));
    assert.equal(SecretString, 'home');
  });
});
