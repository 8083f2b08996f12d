import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { DeleteRoleCommand, UpdateAssumeRolePolicyCommand } from '@aws-sdk/client-iam';
import {
  CreateFunctionCommand,
  GetFunctionCommand,
  InvokeCommand,
  UpdateFunctionConfigurationCommand,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import { ListSecretsCommand } from '@aws-sdk/client-secrets-manager';
import { shell } from '../../helpers/aws-cli.js';
import { auditRows } from '../../helpers/audit.js';
import { ACCOUNT_ID, buildZip, lambdaClient, uniqueFunctionName } from '../../helpers/lambda.js';
import { createAccount, createExecutionRole, createRole, iamClient, LAMBDA_TRUST_POLICY } from '../../helpers/principals.js';
import { secretsClient } from '../../helpers/secrets.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

const NOT_ASSUMABLE = 'The role defined for the function cannot be assumed by Lambda.';

/** For this test only: the function reports who it runs as (STS, with boto3 and its environment's credentials) and hands back its keys. */
const WHO_AM_I = `import os
import boto3


def lambda_handler(event, context):
    identity = boto3.client('sts').get_caller_identity()
    return {
        'Arn': identity['Arn'],
        'UserId': identity['UserId'],
        'AccessKeyId': os.environ['AWS_ACCESS_KEY_ID'],
        'SecretAccessKey': os.environ['AWS_SECRET_ACCESS_KEY'],
        'SessionToken': os.environ.get('AWS_SESSION_TOKEN'),
    }
`;

type Report = { Arn: string; UserId: string; AccessKeyId: string; SecretAccessKey: string; SessionToken?: string };

function rejectsWith(promise: Promise<unknown>, name: string, status: number, message?: string) {
  return assert.rejects(promise, (error: Error & { $metadata?: { httpStatusCode?: number } }) => {
    assert.equal(error.name, name, error.message);
    assert.equal(error.$metadata?.httpStatusCode, status);
    if (message !== undefined) assert.equal(error.message, message);
    return true;
  });
}

describe("hosted functions run as a real session of their execution role, which Lambda must be trusted to assume", () => {
  let server: TestServer;
  let lambda: LambdaClient;
  let workDir: string;
  const zip = buildZip({ 'lambda_function.py': WHO_AM_I });

  const create = (name: string, role: string, timeout = 10) =>
    lambda.send(new CreateFunctionCommand({ FunctionName: name, Runtime: 'python3.11', Role: role, Handler: 'lambda_function.lambda_handler', Timeout: timeout, Code: { ZipFile: zip } }));

  async function invoke(name: string): Promise<Report> {
    const response = await lambda.send(new InvokeCommand({ FunctionName: name }));
    const payload = JSON.parse(new TextDecoder().decode(response.Payload)) as Report & { errorMessage?: string };
    assert.equal(response.FunctionError, undefined, payload.errorMessage);
    return payload;
  }

  before(async () => {
    server = await startTestServer();
    lambda = lambdaClient(server);
    workDir = mkdtempSync(join(tmpdir(), 'coffer-role-session-'));
  });
  after(async () => {
    lambda.destroy();
    await server.cleanup();
    rmSync(workDir, { recursive: true, force: true });
  });

  it("a function's keys are a session of its role: assumed-role/<role>/<function>, with a session token, expiring Timeout + 60 s", async () => {
    const role = await createExecutionRole(server, 'session-runner', ['secretsmanager:ListSecrets']);
    const name = uniqueFunctionName('who');
    await create(name, role.arn, 5);
    const mintedAfter = Date.now();
    const report = await invoke(name);
    const mintedBefore = Date.now();
    assert.equal(report.Arn, `arn:aws:sts::${ACCOUNT_ID}:assumed-role/session-runner/${name}`);
    assert.match(report.UserId, new RegExp(`^AROA[A-Z0-9]+:${name}$`));
    assert.match(report.AccessKeyId, /^ASIA/);
    assert.ok(report.SessionToken && report.SessionToken.length > 100, 'AWS_SESSION_TOKEN is set');

    const db = new Database(join(server.dataDir, 'coffer.db'), { readonly: true });
    const row = db.prepare('SELECT principal_arn, expires_at, session_token_hash FROM access_keys WHERE access_key_id = ?').get(report.AccessKeyId) as
      | { principal_arn: string; expires_at: number; session_token_hash: string | null }
      | undefined;
    db.close();
    assert.ok(row);
    assert.equal(row.principal_arn, report.Arn);
    assert.ok(row.session_token_hash, 'only the token\'s hash is stored');
    assert.ok(row.expires_at >= mintedAfter + 65_000 && row.expires_at <= mintedBefore + 65_000, 'expires Timeout + 60 s after it was started');

    // The keys work with their token and the role's policy, and not without the token.
    const withToken = secretsClient(server, { credentials: { accessKeyId: report.AccessKeyId, secretAccessKey: report.SecretAccessKey, sessionToken: report.SessionToken } });
    await withToken.send(new ListSecretsCommand({}));
    const withoutToken = secretsClient(server, { credentials: { accessKeyId: report.AccessKeyId, secretAccessKey: report.SecretAccessKey } });
    await rejectsWith(withoutToken.send(new ListSecretsCommand({})), 'UnrecognizedClientException', 400);
    // Neither the secret key nor the token reached the audit log.
    const everything = auditRows(server.dataDir).map((auditRow) => auditRow.body).join('\n');
    assert.ok(!everything.includes(report.SecretAccessKey) && !everything.includes(report.SessionToken!));
  });

  it('CreateFunction refuses a role that does not exist, does not trust Lambda, or belongs to another account; nothing is created', async () => {
    const trustsTheAccount = await createRole(server, server.admin, 'trusts-account-only', {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT_ID}:root` }, Action: 'sts:AssumeRole' }],
    });
    const trustsEc2 = await createRole(server, server.admin, 'trusts-ec2', {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
    });
    const deniesLambda = await createRole(server, server.admin, 'denies-lambda', {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
        { Effect: 'Deny', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
      ],
    });
    const other = await createAccount(server);
    const elsewhere = await createRole(server, other.root, 'lambda-role-elsewhere', LAMBDA_TRUST_POLICY);
    for (const role of [`arn:aws:iam::${ACCOUNT_ID}:role/no-such-role`, trustsTheAccount.arn, trustsEc2.arn, deniesLambda.arn, elsewhere.arn]) {
      const name = uniqueFunctionName('refused');
      await rejectsWith(create(name, role), 'InvalidParameterValueException', 400, NOT_ASSUMABLE);
      await rejectsWith(lambda.send(new GetFunctionCommand({ FunctionName: name })), 'ResourceNotFoundException', 404);
    }
  });

  it('UpdateFunctionConfiguration checks a new Role the same way and then runs the function as the new role', async () => {
    const first = await createExecutionRole(server, 'first-role', ['secretsmanager:ListSecrets']);
    const second = await createExecutionRole(server, 'second-role', ['secretsmanager:ListSecrets']);
    const name = uniqueFunctionName('moves');
    await create(name, first.arn);
    await rejectsWith(lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: name, Role: `arn:aws:iam::${ACCOUNT_ID}:role/missing-role` })), 'InvalidParameterValueException', 400, NOT_ASSUMABLE);
    assert.equal((await lambda.send(new GetFunctionCommand({ FunctionName: name }))).Configuration?.Role, first.arn);
    const updated = await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: name, Role: second.arn }));
    assert.equal(updated.Role, second.arn);
    assert.equal((await invoke(name)).Arn, `arn:aws:sts::${ACCOUNT_ID}:assumed-role/second-role/${name}`);
  });

  it('a role that stops trusting Lambda, or is deleted, stops the function at its next invocation', async () => {
    const role = await createRole(server, server.admin, 'trust-withdrawn', LAMBDA_TRUST_POLICY);
    const name = uniqueFunctionName('withdrawn');
    await create(name, role.arn);
    await invoke(name);
    const iam = iamClient(server, server.admin);
    const accountOnly = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT_ID}:root` }, Action: 'sts:AssumeRole' }] };
    await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'trust-withdrawn', PolicyDocument: JSON.stringify(accountOnly) }));
    await rejectsWith(lambda.send(new InvokeCommand({ FunctionName: name })), 'InvalidParameterValueException', 400, NOT_ASSUMABLE);
    await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'trust-withdrawn', PolicyDocument: JSON.stringify(LAMBDA_TRUST_POLICY) }));
    await invoke(name);
    await iam.send(new DeleteRoleCommand({ RoleName: 'trust-withdrawn' }));
    await rejectsWith(lambda.send(new InvokeCommand({ FunctionName: name })), 'InvalidParameterValueException', 400, NOT_ASSUMABLE);
    iam.destroy();
  });

  it('the AWS CLI sees Lambda’s message for a role Lambda cannot assume', async () => {
    writeFileSync(join(workDir, 'f.zip'), zip);
    const result = await shell(
      `aws lambda create-function --function-name cli-refused --runtime python3.11 --handler lambda_function.lambda_handler --zip-file fileb://f.zip --role arn:aws:iam::${ACCOUNT_ID}:role/not-there --endpoint-url "$COFFER_URL"`,
      { cwd: workDir, credentials: server.admin, region: 'us-east-1', env: { COFFER_URL: server.url } },
    );
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /\(InvalidParameterValueException\) when calling the CreateFunction operation: The role defined for the function cannot be assumed by Lambda\./);
  });
});
