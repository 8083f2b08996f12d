import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { shell, shellOk } from '../../helpers/aws-cli.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

/** The IAM commands a user of the AWS CLI types to make a reader, with --endpoint-url pointing at Coffer. */
describe('the AWS CLI: aws iam against Coffer', () => {
  let server: TestServer;
  let workDir: string;
  let run: (command: string, credentials?: { accessKeyId: string; secretAccessKey: string }) => Promise<string>;

  before(async () => {
    server = await startTestServer({ devMode: false });
    workDir = mkdtempSync(join(tmpdir(), 'coffer-iam-cli-'));
    run = (command, credentials = server.admin) => shellOk(command, { cwd: workDir, credentials, region: 'us-east-1', env: { COFFER_URL: server.url } });
    writeFileSync(
      join(workDir, 'reader-policy.json'),
      JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['secretsmanager:ListSecrets', 'secretsmanager:GetSecretValue'], Resource: '*' }] }),
    );
  });
  after(async () => {
    await server.cleanup();
    rmSync(workDir, { recursive: true, force: true });
  });

  it('create-user, put-user-policy file://, create-access-key; the new key reads secrets and nothing more', async () => {
    const created = JSON.parse(await run('aws iam create-user --user-name app-reader --tags Key=team,Value=payments --endpoint-url "$COFFER_URL"')) as {
      User: { UserName: string; Arn: string; UserId: string };
    };
    assert.equal(created.User.Arn, 'arn:aws:iam::000000000000:user/app-reader');
    await run('aws iam put-user-policy --user-name app-reader --policy-name read --policy-document file://reader-policy.json --endpoint-url "$COFFER_URL"');
    const policy = JSON.parse(await run('aws iam get-user-policy --user-name app-reader --policy-name read --endpoint-url "$COFFER_URL"')) as {
      PolicyDocument: { Statement: Array<{ Action: string[] }> };
    };
    // The CLI decodes IAM's URL-encoded document into JSON.
    assert.deepEqual(policy.PolicyDocument.Statement[0]!.Action, ['secretsmanager:ListSecrets', 'secretsmanager:GetSecretValue']);

    const key = JSON.parse(await run('aws iam create-access-key --user-name app-reader --endpoint-url "$COFFER_URL"')) as {
      AccessKey: { AccessKeyId: string; SecretAccessKey: string; Status: string };
    };
    assert.equal(key.AccessKey.Status, 'Active');
    const readerKeys = { accessKeyId: key.AccessKey.AccessKeyId, secretAccessKey: key.AccessKey.SecretAccessKey };

    await run('aws secretsmanager create-secret --name cli-secret --secret-string s3cr3t --endpoint-url "$COFFER_URL"');
    const value = JSON.parse(await run('aws secretsmanager get-secret-value --secret-id cli-secret --endpoint-url "$COFFER_URL"', readerKeys)) as { SecretString: string };
    assert.equal(value.SecretString, 's3cr3t');

    const refused = await shell('aws secretsmanager delete-secret --secret-id cli-secret --endpoint-url "$COFFER_URL"', {
      cwd: workDir,
      credentials: readerKeys,
      region: 'us-east-1',
      env: { COFFER_URL: server.url },
    });
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /AccessDeniedException/);
    assert.match(refused.stderr, /user\/app-reader is not authorized to perform: secretsmanager:DeleteSecret/);

    const listed = JSON.parse(await run('aws iam list-access-keys --user-name app-reader --endpoint-url "$COFFER_URL"')) as { AccessKeyMetadata: Array<{ AccessKeyId: string }> };
    assert.deepEqual(listed.AccessKeyMetadata.map((item) => item.AccessKeyId), [readerKeys.accessKeyId]);
  });

  it('errors come back as the CLI shows IAM errors: NoSuchEntity, MalformedPolicyDocument', async () => {
    const missing = await shell('aws iam get-user --user-name ghost --endpoint-url "$COFFER_URL"', {
      cwd: workDir,
      credentials: server.admin,
      region: 'us-east-1',
      env: { COFFER_URL: server.url },
    });
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /\(NoSuchEntity\).*The user with name ghost cannot be found\./);

    writeFileSync(join(workDir, 'broken.json'), '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*"');
    await run('aws iam create-user --user-name broken-policy --endpoint-url "$COFFER_URL"');
    const malformed = await shell('aws iam put-user-policy --user-name broken-policy --policy-name p --policy-document file://broken.json --endpoint-url "$COFFER_URL"', {
      cwd: workDir,
      credentials: server.admin,
      region: 'us-east-1',
      env: { COFFER_URL: server.url },
    });
    assert.notEqual(malformed.code, 0);
    assert.match(malformed.stderr, /\(MalformedPolicyDocument\)/);
  });

  it('create-role with a trust policy file and get-role', async () => {
    writeFileSync(
      join(workDir, 'trust.json'),
      JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::000000000000:root' }, Action: 'sts:AssumeRole' }] }),
    );
    const created = JSON.parse(await run('aws iam create-role --role-name deployer --assume-role-policy-document file://trust.json --endpoint-url "$COFFER_URL"')) as {
      Role: { Arn: string };
    };
    assert.equal(created.Role.Arn, 'arn:aws:iam::000000000000:role/deployer');
    const fetched = JSON.parse(await run('aws iam get-role --role-name deployer --endpoint-url "$COFFER_URL"')) as {
      Role: { AssumeRolePolicyDocument: { Statement: Array<{ Action: string }> } };
    };
    assert.equal(fetched.Role.AssumeRolePolicyDocument.Statement[0]!.Action, 'sts:AssumeRole');
  });
});
