/**
 * A condition on a key Coffer never sets is named where a policy author or an operator looks: in
 * ValidateResourcePolicy's ValidationErrors (a Deny that never applies fails validation), and in the server's log
 * when PutUserPolicy / PutResourcePolicy / PutKeyPolicy store such a policy (the calls succeed, as in AWS).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateUserCommand, IAMClient, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { CreateKeyCommand, KMSClient, PutKeyPolicyCommand } from '@aws-sdk/client-kms';
import { CreateSecretCommand, PutResourcePolicyCommand, SecretsManagerClient, ValidateResourcePolicyCommand } from '@aws-sdk/client-secrets-manager';
import type { Logger } from '../../../src/core/index.js';
import { startServer, type RunningServer } from '../../../src/server/index.js';

const REGION = 'us-east-1';
const DEV_KEYS = { accessKeyId: 'test', secretAccessKey: 'test' };
const DENY_OUTSIDE_VPC = {
  Effect: 'Deny',
  Principal: '*',
  Action: 'secretsmanager:GetSecretValue',
  Resource: '*',
  Condition: { StringEquals: { 'aws:SourceVpc': 'vpc-0123' } },
};

describe('conditions on keys Coffer never sets', () => {
  let server: RunningServer;
  let dataDir: string;
  const warnings: { message: string; fields?: Record<string, unknown> }[] = [];
  const logger: Logger = { debug() {}, info() {}, error() {}, warn: (message, fields) => warnings.push({ message, fields }) };
  const client = <T>(Client: new (config: object) => T): T =>
    new Client({ endpoint: server.http.url, region: REGION, credentials: DEV_KEYS, maxAttempts: 1 });

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'coffer-test-'));
    server = await startServer({ dataDir, host: '127.0.0.1', port: 0, devMode: true, logger, maintenanceIntervalMs: 0 });
  });
  after(async () => {
    await server?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('ValidateResourcePolicy fails a Deny that never applies and names the key', async () => {
    const policy = JSON.stringify({ Version: '2012-10-17', Statement: [DENY_OUTSIDE_VPC] });
    const result = await client(SecretsManagerClient).send(new ValidateResourcePolicyCommand({ ResourcePolicy: policy }));
    assert.equal(result.PolicyValidationPassed, false);
    assert.equal(result.ValidationErrors?.length, 1);
    assert.equal(result.ValidationErrors?.[0]?.CheckName, 'CONDITION_KEY_NEVER_SET');
    assert.match(result.ValidationErrors?.[0]?.ErrorMessage ?? '', /aws:SourceVpc.*this Deny never applies/);
  });

  it('storing such a policy succeeds and logs a warning naming the key, the operation and the resource', async () => {
    const secrets = client(SecretsManagerClient);
    const secret = await secrets.send(new CreateSecretCommand({ Name: 'vpc-only', SecretString: 'v' }));
    await secrets.send(new PutResourcePolicyCommand({ SecretId: secret.ARN, ResourcePolicy: JSON.stringify({ Version: '2012-10-17', Statement: [DENY_OUTSIDE_VPC] }) }));

    const iam = client(IAMClient);
    await iam.send(new CreateUserCommand({ UserName: 'vpc-user' }));
    const { Principal: _principal, ...identityStatement } = DENY_OUTSIDE_VPC;
    await iam.send(new PutUserPolicyCommand({ UserName: 'vpc-user', PolicyName: 'p', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [identityStatement] }) }));

    const kms = client(KMSClient);
    const key = await kms.send(new CreateKeyCommand({}));
    const keyPolicy = {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::000000000000:root' }, Action: 'kms:*', Resource: '*' },
        { Effect: 'Deny', Principal: '*', Action: 'kms:Decrypt', Resource: '*', Condition: { StringEquals: { 'secretsmanager:Name': 'x' } } },
      ],
    };
    await kms.send(new PutKeyPolicyCommand({ KeyId: key.KeyMetadata!.KeyId, PolicyName: 'default', Policy: JSON.stringify(keyPolicy) }));

    const logged = warnings.filter((warning) => warning.message === 'policy has conditions on keys Coffer never sets');
    assert.deepEqual(logged.map((warning) => warning.fields?.operation), ['PutResourcePolicy', 'PutUserPolicy', 'PutKeyPolicy']);
    assert.equal(logged[0]!.fields?.resource, secret.ARN);
    assert.equal(logged[2]!.fields?.resource, key.KeyMetadata!.Arn);
    assert.match(String(logged[0]!.fields?.findings), /SECURITY_WARNING Statement\[0\]\.Condition\.StringEquals\.aws:SourceVpc/);
    assert.match(String(logged[2]!.fields?.findings), /secretsmanager:Name/);
  });
});
