import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DescribeSecretCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { shell, shellOk, type ShellResult } from '../../helpers/aws-cli.js';
import { awsCliMajorVersion } from '../../helpers/lambda.js';
import { secretsClient } from '../../helpers/secrets.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';
import { createExecutionRole } from '../../helpers/principals.js';

type FunctionConfiguration = {
  FunctionName: string;
  FunctionArn: string;
  Runtime: string;
  Role: string;
  Handler: string;
  CodeSize: number;
  CodeSha256: string;
  Timeout: number;
  LastModified: string;
  RevisionId: string;
  State: string;
  PackageType: string;
  Environment?: { Variables: Record<string, string> };
};

/** The handler the AWS documentation's style of rotation function is built from: boto3, endpoint from the environment. */
const BOTO3_HANDLER = `import json
import boto3

client = boto3.client('secretsmanager')


def lambda_handler(event, context):
    print('creating', event['Name'])
    response = client.create_secret(Name=event['Name'], SecretString=json.dumps({'made-by': context.function_name}))
    return {'ARN': response['ARN'], 'FunctionName': context.function_name, 'Greeting': event.get('Greeting')}
`;

const SECOND_VERSION = `def lambda_handler(event, context):
    return {'version': 2, 'remaining_ok': 0 < context.get_remaining_time_in_millis() <= 3000}
`;

/**
 * The Lambda commands a user runs to deploy a function to Coffer, exactly as typed, with `--endpoint-url`:
 * create-function from a zip made with `zip`, get-function, list-functions, invoke, update-function-code,
 * delete-function, and the errors they meet.
 */
describe('the AWS CLI deploys and invokes a hosted function', () => {
  let server: TestServer;
  let workDir: string;
  let run: (command: string) => Promise<string>;
  let runRaw: (command: string) => Promise<ShellResult>;
  let payloadFlag: string;
  let created: FunctionConfiguration;

  before(async () => {
    server = await startTestServer({ devMode: true });
    await createExecutionRole(server, 'r', ['secretsmanager:CreateSecret']);
    workDir = mkdtempSync(join(tmpdir(), 'coffer-lambda-cli-'));
    const options = { cwd: workDir, credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, region: 'us-east-1', env: { COFFER_URL: server.url }, timeoutMs: 60_000 };
    run = (command) => shellOk(command, options);
    runRaw = (command) => shell(command, options);
    // AWS CLI v2 reads --payload as base64 unless told otherwise; v1 takes the JSON text as it is.
    payloadFlag = awsCliMajorVersion() >= 2 ? '--cli-binary-format raw-in-base64-out ' : '';
    writeFileSync(join(workDir, 'lambda_function.py'), BOTO3_HANDLER);
    await run('zip -q f.zip lambda_function.py');
  });
  after(async () => {
    await server.cleanup();
    rmSync(workDir, { recursive: true, force: true });
  });

  it('create-function --runtime python3.11 --handler … --zip-file fileb://f.zip --role …', async () => {
    const output = await run(`aws lambda create-function --function-name f --runtime python3.11 \\
  --handler lambda_function.lambda_handler --zip-file fileb://f.zip \\
  --role arn:aws:iam::000000000000:role/r --endpoint-url "$COFFER_URL"`);
    created = JSON.parse(output) as FunctionConfiguration;
    const zip = readFileSync(join(workDir, 'f.zip'));
    assert.equal(created.FunctionName, 'f');
    assert.equal(created.FunctionArn, 'arn:aws:lambda:us-east-1:000000000000:function:f');
    assert.equal(created.Runtime, 'python3.11');
    assert.equal(created.Role, 'arn:aws:iam::000000000000:role/r');
    assert.equal(created.Handler, 'lambda_function.lambda_handler');
    assert.equal(created.CodeSize, zip.length);
    assert.equal(created.CodeSha256, (await import('node:crypto')).createHash('sha256').update(zip).digest('base64'));
    assert.equal(created.Timeout, 3);
    assert.equal(created.State, 'Active');
    assert.equal(created.PackageType, 'Zip');
    assert.match(created.LastModified, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$/);
    assert.match(created.RevisionId, /^[0-9a-f-]{36}$/);
  });

  it('get-function by name and by ARN; list-functions', async () => {
    const byName = JSON.parse(await run('aws lambda get-function --function-name f --endpoint-url "$COFFER_URL"')) as {
      Configuration: FunctionConfiguration;
      Code: { RepositoryType: string; Location: string };
    };
    assert.deepEqual(byName.Configuration, created);
    assert.equal(byName.Code.RepositoryType, 'S3');
    assert.equal(typeof byName.Code.Location, 'string');
    const byArn = JSON.parse(await run(`aws lambda get-function --function-name ${created.FunctionArn} --endpoint-url "$COFFER_URL"`)) as {
      Configuration: FunctionConfiguration;
    };
    assert.deepEqual(byArn.Configuration, created);
    const listed = JSON.parse(await run('aws lambda list-functions --endpoint-url "$COFFER_URL"')) as { Functions: FunctionConfiguration[] };
    assert.deepEqual(listed.Functions.map((fn) => fn.FunctionName), ['f']);
  });

  it('invoke --payload … out.json: the boto3 handler reaches Coffer with its own credentials and creates a secret', async () => {
    const output = await run(`aws lambda invoke --function-name f ${payloadFlag}\\
  --payload '{"Name": "made-by-lambda", "Greeting": "hello"}' out.json --endpoint-url "$COFFER_URL"`);
    const response = JSON.parse(output) as { StatusCode: number; FunctionError?: string; ExecutedVersion: string };
    const result = JSON.parse(readFileSync(join(workDir, 'out.json'), 'utf8')) as { ARN: string; FunctionName: string; Greeting: string };
    assert.equal(response.FunctionError, undefined, JSON.stringify(result));
    assert.equal(response.StatusCode, 200);
    assert.equal(response.ExecutedVersion, '$LATEST');
    assert.equal(result.FunctionName, 'f');
    assert.equal(result.Greeting, 'hello');
    assert.match(result.ARN, /^arn:aws:secretsmanager:us-east-1:000000000000:secret:made-by-lambda-[A-Za-z0-9]{6}$/);

    const sm = secretsClient(server);
    const described = await sm.send(new DescribeSecretCommand({ SecretId: 'made-by-lambda' }));
    assert.equal(described.ARN, result.ARN);
    const value = await sm.send(new GetSecretValueCommand({ SecretId: result.ARN }));
    assert.deepEqual(JSON.parse(value.SecretString!), { 'made-by': 'f' });
  });

  it('update-function-code --zip-file: the next invoke runs the new code', async () => {
    writeFileSync(join(workDir, 'lambda_function.py'), SECOND_VERSION);
    await run('rm f.zip && zip -q f.zip lambda_function.py');
    const updated = JSON.parse(await run('aws lambda update-function-code --function-name f --zip-file fileb://f.zip --endpoint-url "$COFFER_URL"')) as FunctionConfiguration;
    assert.notEqual(updated.CodeSha256, created.CodeSha256);
    assert.notEqual(updated.RevisionId, created.RevisionId);
    assert.equal(updated.CodeSize, readFileSync(join(workDir, 'f.zip')).length);
    await run(`aws lambda invoke --function-name f ${payloadFlag}--payload '{}' out.json --endpoint-url "$COFFER_URL"`);
    assert.deepEqual(JSON.parse(readFileSync(join(workDir, 'out.json'), 'utf8')), { version: 2, remaining_ok: true });
  });

  it('errors: unknown function (404), duplicate name (409), unsupported runtime (400)', async () => {
    const missing = await runRaw('aws lambda get-function --function-name nope --endpoint-url "$COFFER_URL"');
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /ResourceNotFoundException.*Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope/);

    const duplicate = await runRaw(`aws lambda create-function --function-name f --runtime python3.11 \\
  --handler lambda_function.lambda_handler --zip-file fileb://f.zip --role arn:aws:iam::000000000000:role/r --endpoint-url "$COFFER_URL"`);
    assert.notEqual(duplicate.code, 0);
    assert.match(duplicate.stderr, /ResourceConflictException.*Function already exist: f/);

    const badRuntime = await runRaw(`aws lambda create-function --function-name g --runtime cobol85 \\
  --handler lambda_function.lambda_handler --zip-file fileb://f.zip --role arn:aws:iam::000000000000:role/r --endpoint-url "$COFFER_URL"`);
    assert.notEqual(badRuntime.code, 0);
    assert.match(badRuntime.stderr, /InvalidParameterValueException.*runtime parameter of cobol85 is not supported/);

    const missingInvoke = await runRaw('aws lambda invoke --function-name nope out.json --endpoint-url "$COFFER_URL"');
    assert.match(missingInvoke.stderr, /ResourceNotFoundException/);
  });

  it('delete-function, after which the function is gone', async () => {
    await run('aws lambda delete-function --function-name f --endpoint-url "$COFFER_URL"');
    const listed = JSON.parse(await run('aws lambda list-functions --endpoint-url "$COFFER_URL"')) as { Functions: FunctionConfiguration[] };
    assert.deepEqual(listed.Functions, []);
    const again = await runRaw('aws lambda delete-function --function-name f --endpoint-url "$COFFER_URL"');
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /ResourceNotFoundException/);
  });
});
