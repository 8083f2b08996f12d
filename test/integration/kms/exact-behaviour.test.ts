import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  ConnectCustomKeyStoreCommand,
  CreateAliasCommand,
  CreateCustomKeyStoreCommand,
  DecryptCommand,
  DeleteAliasCommand,
  DeleteCustomKeyStoreCommand,
  DescribeCustomKeyStoresCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  DisconnectCustomKeyStoreCommand,
  EnableKeyCommand,
  EncryptCommand,
  GetKeyLastUsageCommand,
  ListAliasesCommand,
  PutKeyPolicyCommand,
  ReEncryptCommand,
  UpdateCustomKeyStoreCommand,
  type AliasListEntry,
  type KMSClient,
} from '@aws-sdk/client-kms';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { shell } from '../../helpers/aws-cli.js';
import { auditEvents } from '../../helpers/audit.js';
import { createKey, rejectsWith } from '../../helpers/kms.js';
import { secretsClient } from '../../helpers/secrets.js';
import { rawCall } from '../../helpers/signed-fetch.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

/**
 * Where Coffer's KMS must answer exactly as AWS documents: alias errors, the predefined aws/ aliases,
 * GetKeyLastUsage, custom key stores, and validation messages.
 */

const ACCOUNT = '000000000000';
const REGION = 'us-east-1';

let server: TestServer;
let kms: KMSClient;
let workDir: string;

before(async () => {
  server = await startTestServer();
  kms = server.kms();
  workDir = mkdtempSync(join(tmpdir(), 'coffer-exact-kms-'));
});
after(async () => {
  await server.cleanup();
  rmSync(workDir, { recursive: true, force: true });
});

function cli(command: string) {
  return shell(command, { cwd: workDir, credentials: server.admin, region: REGION, env: { COFFER_URL: server.url } });
}

async function allAliases(limit: number): Promise<AliasListEntry[]> {
  const aliases: AliasListEntry[] = [];
  let marker: string | undefined;
  do {
    const page = await kms.send(new ListAliasesCommand({ Limit: limit, Marker: marker }));
    aliases.push(...(page.Aliases ?? []));
    assert.equal(page.Truncated, page.NextMarker !== undefined);
    marker = page.NextMarker;
  } while (marker);
  return aliases;
}

describe('aliases', () => {
  it('a missing alias is "Alias <alias ARN> is not found." without quotes', async () => {
    const arn = `arn:aws:kms:${REGION}:${ACCOUNT}:alias/exact-missing`;
    const deleted = await rejectsWith(kms.send(new DeleteAliasCommand({ AliasName: 'alias/exact-missing' })), 'NotFoundException');
    assert.equal(deleted.message, `Alias ${arn} is not found.`);
    const described = await rejectsWith(kms.send(new DescribeKeyCommand({ KeyId: 'alias/exact-missing' })), 'NotFoundException');
    assert.equal(described.message, `Alias ${arn} is not found.`);
  });

  it('ListAliases lists the predefined aws/ aliases, without a key until their AWS managed key exists', async () => {
    const before = await allAliases(100);
    const ebs = before.find((alias) => alias.AliasName === 'alias/aws/ebs');
    assert.deepEqual(ebs, { AliasName: 'alias/aws/ebs', AliasArn: `arn:aws:kms:${REGION}:${ACCOUNT}:alias/aws/ebs` });
    const unused = before.find((alias) => alias.AliasName === 'alias/aws/secretsmanager');
    assert.deepEqual(unused, { AliasName: 'alias/aws/secretsmanager', AliasArn: `arn:aws:kms:${REGION}:${ACCOUNT}:alias/aws/secretsmanager` });
    for (const name of ['alias/aws/ssm', 'alias/aws/s3', 'alias/aws/lambda']) assert.ok(before.some((alias) => alias.AliasName === name), name);

    // A secret's first use creates the Secrets Manager key: the stored alias replaces the predefined entry.
    await secretsClient(server).send(new CreateSecretCommand({ Name: 'exact/uses-managed-key', SecretString: 'v' }));
    const key = await createKey(kms);
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/exact-b', TargetKeyId: key.KeyId }));
    const afterwards = await allAliases(100);
    const used = afterwards.filter((alias) => alias.AliasName === 'alias/aws/secretsmanager');
    assert.equal(used.length, 1);
    assert.match(used[0]!.TargetKeyId ?? '', /^[0-9a-f-]{36}$/);
    assert.ok(used[0]!.CreationDate instanceof Date);

    // Pages of 3 give the same list, in name order, each alias once.
    const paged = await allAliases(3);
    assert.deepEqual(paged.map((alias) => alias.AliasName), afterwards.map((alias) => alias.AliasName));
    const names = paged.map((alias) => alias.AliasName!);
    assert.deepEqual(names, [...names].sort());
    assert.equal(new Set(names).size, names.length);

    // By key, only that key's aliases.
    const byKey = await kms.send(new ListAliasesCommand({ KeyId: key.KeyId }));
    assert.deepEqual(byKey.Aliases?.map((alias) => alias.AliasName), ['alias/exact-b']);
  });

  it('the AWS CLI shows a predefined alias', async () => {
    const result = await cli(`aws kms list-aliases --endpoint-url "$COFFER_URL" --query "Aliases[?AliasName=='alias/aws/ebs'] | [0]" --output json`);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), { AliasName: 'alias/aws/ebs', AliasArn: `arn:aws:kms:${REGION}:${ACCOUNT}:alias/aws/ebs` });
  });
});

describe('GetKeyLastUsage', () => {
  it('has no KeyLastUsage for an unused key; TrackingStartDate is the key creation when the log began before', async () => {
    const key = await createKey(kms);
    const usage = await kms.send(new GetKeyLastUsageCommand({ KeyId: key.KeyId }));
    assert.equal(usage.KeyId, key.KeyId);
    assert.equal(usage.KeyLastUsage, undefined);
    assert.equal(usage.KeyCreationDate?.getTime(), key.CreationDate?.getTime());
    assert.equal(usage.TrackingStartDate?.getTime(), key.CreationDate?.getTime());
  });

  it('reports the last successful cryptographic operation, its audit event id and request id', async () => {
    const key = await createKey(kms);
    const encrypted = await kms.send(new EncryptCommand({ KeyId: key.Arn, Plaintext: Buffer.from('hello') }));
    let usage = await kms.send(new GetKeyLastUsageCommand({ KeyId: key.Arn }));
    assert.equal(usage.KeyLastUsage?.Operation, 'Encrypt');
    assert.equal(usage.KeyLastUsage?.KmsRequestId, encrypted.$metadata.requestId);
    const event = auditEvents(server.dataDir).find((candidate) => candidate.requestID === encrypted.$metadata.requestId);
    assert.equal(usage.KeyLastUsage?.CloudTrailEventId, event?.eventID);
    assert.ok(usage.KeyLastUsage?.Timestamp instanceof Date);
    assert.equal(usage.KeyLastUsage?.Timestamp?.getTime(), new Date(event?.eventTime).getTime());

    // Management calls and failed calls do not count.
    await kms.send(new DisableKeyCommand({ KeyId: key.KeyId }));
    await rejectsWith(kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') })), 'DisabledException');
    await kms.send(new EnableKeyCommand({ KeyId: key.KeyId }));
    usage = await kms.send(new GetKeyLastUsageCommand({ KeyId: key.KeyId }));
    assert.equal(usage.KeyLastUsage?.Operation, 'Encrypt');
    assert.equal(usage.KeyLastUsage?.KmsRequestId, encrypted.$metadata.requestId);

    // Decrypt names the key only in its answer; ReEncrypt counts for its source and its destination key.
    const decrypted = await kms.send(new DecryptCommand({ CiphertextBlob: encrypted.CiphertextBlob }));
    usage = await kms.send(new GetKeyLastUsageCommand({ KeyId: key.KeyId }));
    assert.equal(usage.KeyLastUsage?.Operation, 'Decrypt');
    assert.equal(usage.KeyLastUsage?.KmsRequestId, decrypted.$metadata.requestId);
    const destination = await createKey(kms);
    const reEncrypted = await kms.send(new ReEncryptCommand({ CiphertextBlob: encrypted.CiphertextBlob, DestinationKeyId: destination.KeyId }));
    for (const keyId of [key.KeyId, destination.KeyId]) {
      usage = await kms.send(new GetKeyLastUsageCommand({ KeyId: keyId }));
      assert.equal(usage.KeyLastUsage?.Operation, 'ReEncrypt', keyId);
      assert.equal(usage.KeyLastUsage?.KmsRequestId, reEncrypted.$metadata.requestId);
    }
  });

  it('takes a key id or key ARN, not an alias, and needs kms:GetKeyLastUsage in the key policy', async () => {
    const key = await createKey(kms);
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/exact-usage', TargetKeyId: key.KeyId }));
    await rejectsWith(kms.send(new GetKeyLastUsageCommand({ KeyId: 'alias/exact-usage' })), 'NotFoundException');
    const policy = {
      Version: '2012-10-17',
      Statement: [
        { Sid: 'Admin', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' },
        { Sid: 'NoUsage', Effect: 'Deny', Principal: { AWS: '*' }, Action: 'kms:GetKeyLastUsage', Resource: '*' },
      ],
    };
    await kms.send(new PutKeyPolicyCommand({ KeyId: key.KeyId, PolicyName: 'default', Policy: JSON.stringify(policy) }));
    await rejectsWith(kms.send(new GetKeyLastUsageCommand({ KeyId: key.KeyId })), 'AccessDeniedException');
  });

  it('the AWS CLI reads it', async () => {
    const key = await createKey(kms);
    await kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('cli') }));
    const result = await cli(`aws kms get-key-last-usage --endpoint-url "$COFFER_URL" --key-id ${key.KeyId} --query KeyLastUsage.Operation --output text`);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), 'Encrypt');
  });
});

describe('custom key stores', () => {
  const unsupported = /^Custom key stores are not supported by Coffer/;

  it('create, connect, disconnect, update and delete answer UnsupportedOperationException', async () => {
    const calls = [
      kms.send(new CreateCustomKeyStoreCommand({ CustomKeyStoreName: 'store', CustomKeyStoreType: 'EXTERNAL_KEY_STORE' })),
      kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: 'cks-1234567890abcdef0' })),
      kms.send(new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId: 'cks-1234567890abcdef0' })),
      kms.send(new UpdateCustomKeyStoreCommand({ CustomKeyStoreId: 'cks-1234567890abcdef0', NewCustomKeyStoreName: 'renamed' })),
      kms.send(new DeleteCustomKeyStoreCommand({ CustomKeyStoreId: 'cks-1234567890abcdef0' })),
    ];
    for (const call of calls) assert.match((await rejectsWith(call, 'UnsupportedOperationException')).message, unsupported);
  });

  it('DescribeCustomKeyStores lists none; a named store is not found', async () => {
    const listed = await kms.send(new DescribeCustomKeyStoresCommand({}));
    assert.deepEqual(listed.CustomKeyStores, []);
    assert.equal(listed.Truncated, false);
    await rejectsWith(kms.send(new DescribeCustomKeyStoresCommand({ CustomKeyStoreId: 'cks-1234567890abcdef0' })), 'CustomKeyStoreNotFoundException');
    const result = await cli(`aws kms describe-custom-key-stores --endpoint-url "$COFFER_URL" --output json`);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout).CustomKeyStores, []);
  });

  it('inputs are validated first; a password or proxy credential is never shown or audited', async () => {
    const missing = await rejectsWith(kms.send(new CreateCustomKeyStoreCommand({} as never)), 'ValidationException');
    assert.equal(missing.message, "1 validation error detected: Value null at 'customKeyStoreName' failed to satisfy constraint: Member must not be null");
    const response = await rawCall(server.url, {
      target: 'TrentService.CreateCustomKeyStore',
      credentials: server.admin,
      body: JSON.stringify({
        CustomKeyStoreName: 'store',
        KeyStorePassword: 'pw-secret-123456789012345678901234',
        XksProxyAuthenticationCredential: { AccessKeyId: 'lowercase-not-allowed-here', RawSecretAccessKey: 'shortrawsecret' },
      }),
    });
    assert.equal(response.json?.__type, 'ValidationException');
    const message = String(response.json?.message);
    assert.match(message, /^3 validation errors detected: /);
    assert.ok(message.includes("Value at 'keyStorePassword' failed to satisfy constraint: Member must have length less than or equal to 32"), message);
    assert.ok(message.includes("Value at 'xksProxyAuthenticationCredential.accessKeyId' failed to satisfy constraint"), message);
    assert.ok(message.includes("Value at 'xksProxyAuthenticationCredential.rawSecretAccessKey' failed to satisfy constraint"), message);
    for (const secret of ['pw-secret', 'lowercase-not-allowed', 'shortrawsecret']) assert.ok(!message.includes(secret), message);

    await rejectsWith(
      kms.send(
        new CreateCustomKeyStoreCommand({
          CustomKeyStoreName: 'store',
          KeyStorePassword: 'audited-password-1',
          XksProxyAuthenticationCredential: { AccessKeyId: 'ABCDEFGHIJKLMNOPQRSTUV', RawSecretAccessKey: 'a'.repeat(43) + 'audited' },
        }),
      ),
      'UnsupportedOperationException',
    );
    const audit = JSON.stringify(auditEvents(server.dataDir));
    for (const secret of ['pw-secret', 'audited-password', 'ABCDEFGHIJKLMNOPQRSTUV', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaudited']) {
      assert.ok(!audit.includes(secret), `the audit log keeps no ${secret}`);
    }
  });
});

describe('ValidationException text', () => {
  it("shows a non-sensitive value in AWS's form", async () => {
    const key = await createKey(kms);
    const error = await rejectsWith(kms.send(new CreateAliasCommand({ AliasName: 'alias/x!', TargetKeyId: key.KeyId })), 'ValidationException');
    assert.equal(
      error.message,
      "1 validation error detected: Value 'alias/x!' at 'aliasName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$",
    );
  });

  it('counts several errors, with values where they may be shown and never a plaintext', async () => {
    const response = await rawCall(server.url, {
      target: 'TrentService.Encrypt',
      credentials: server.admin,
      body: JSON.stringify({ KeyId: '', Plaintext: Buffer.alloc(4097, 7).toString('base64'), EncryptionAlgorithm: 'ROT13' }),
    });
    assert.equal(response.json?.__type, 'ValidationException');
    assert.equal(
      response.json?.message,
      "3 validation errors detected: Value '' at 'keyId' failed to satisfy constraint: Member must have length greater than or equal to 1; " +
        "Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to 4096; " +
        "Value 'ROT13' at 'encryptionAlgorithm' failed to satisfy constraint: Member must satisfy enum value set: [SYMMETRIC_DEFAULT, RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256, SM2PKE]",
    );
  });

  it('the AWS CLI prints it', async () => {
    const result = await cli(`aws kms list-keys --endpoint-url "$COFFER_URL" --limit 1001`);
    assert.notEqual(result.code, 0);
    assert.ok(result.stderr.includes("Value '1001' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 1000"), result.stderr);
  });
});
