import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateKeyCommand, DecryptCommand, ListKeysCommand, EncryptCommand, GenerateDataKeyCommand, GenerateRandomCommand, type KMSClient } from '@aws-sdk/client-kms';
import { CreateFunctionCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import {
  BatchGetSecretValueCommand,
  CreateSecretCommand,
  GetRandomPasswordCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  RotateSecretCommand,
  UpdateSecretCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { shellOk } from '../../helpers/aws-cli.js';
import { auditEvents, auditRows } from '../../helpers/audit.js';
import { lambdaClient, uniqueFunctionName } from '../../helpers/lambda.js';
import { secretsClient, uniqueSecretName } from '../../helpers/secrets.js';
import { rawCall } from '../../helpers/signed-fetch.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

/**
 * Every call through the real server, by real clients, leaves exactly one CloudTrail-shaped event, and no
 * secret value, plaintext, password or data key ever reaches the audit log or the database files.
 */
describe('audit recording', () => {
  let server: TestServer;
  let sm: SecretsManagerClient;
  let kms: KMSClient;
  let lambda: LambdaClient;
  let receiver: Server;
  let receiverUrl: string;
  let workDir: string;
  /** Every value that must never be found: strings and byte strings. */
  const secretStrings: string[] = [];
  const secretBytes: Buffer[] = [];
  /** Values that must stay out of the audit log (they are legitimately stored elsewhere, e.g. Lambda environments). */
  const auditOnlySecrets: string[] = [];
  /** requestId → operation, for every call made. */
  const calls = new Map<string, string>();

  const marker = `AuditMarker-${randomBytes(8).toString('hex')}`;
  const binaryMarker = Buffer.concat([Buffer.from('BinMarker-'), randomBytes(16)]);
  const kmsMarker = Buffer.concat([Buffer.from('KmsMarker-'), randomBytes(16)]);
  const secretName = uniqueSecretName('audit/app');

  const track = async <T extends { $metadata: { requestId?: string } }>(operation: string, promise: Promise<T>): Promise<T> => {
    const output = await promise;
    calls.set(output.$metadata.requestId!, operation);
    return output;
  };

  before(async () => {
    server = await startTestServer();
    sm = secretsClient(server);
    kms = server.kms();
    lambda = lambdaClient(server);
    workDir = mkdtempSync(join(tmpdir(), 'coffer-audit-'));
    receiver = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{}');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    secretStrings.push(marker);
    secretBytes.push(binaryMarker, kmsMarker);
  });
  after(async () => {
    await server?.cleanup();
    receiver?.close();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it('puts marker values through every value-carrying operation', async () => {
    await track('CreateSecret', sm.send(new CreateSecretCommand({ Name: secretName, SecretString: JSON.stringify({ password: marker }) })));
    await track('GetSecretValue', sm.send(new GetSecretValueCommand({ SecretId: secretName })));
    await track('PutSecretValue', sm.send(new PutSecretValueCommand({ SecretId: secretName, SecretBinary: binaryMarker })));
    await track('GetSecretValue', sm.send(new GetSecretValueCommand({ SecretId: secretName })));
    await track('UpdateSecret', sm.send(new UpdateSecretCommand({ SecretId: secretName, SecretString: `${marker}-updated` })));
    await track('BatchGetSecretValue', sm.send(new BatchGetSecretValueCommand({ SecretIdList: [secretName] })));
    const password = await track('GetRandomPassword', sm.send(new GetRandomPasswordCommand({ PasswordLength: 40 })));
    secretStrings.push(password.RandomPassword!);

    const key = await track('CreateKey', kms.send(new CreateKeyCommand({})));
    const keyId = key.KeyMetadata!.KeyId!;
    const encrypted = await track('Encrypt', kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: kmsMarker })));
    const decrypted = await track('Decrypt', kms.send(new DecryptCommand({ CiphertextBlob: encrypted.CiphertextBlob })));
    assert.deepEqual(Buffer.from(decrypted.Plaintext!), kmsMarker);
    const dataKey = await track('GenerateDataKey', kms.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256' })));
    secretBytes.push(Buffer.from(dataKey.Plaintext!));
    const random = await track('GenerateRandom', kms.send(new GenerateRandomCommand({ NumberOfBytes: 32 })));
    secretBytes.push(Buffer.from(random.Plaintext!));

    const envSecret = `EnvMarker-${randomBytes(8).toString('hex')}`;
    auditOnlySecrets.push(envSecret);
    await track(
      'CreateFunction',
      lambda.send(
        new CreateFunctionCommand({
          FunctionName: uniqueFunctionName('audit'),
          Runtime: 'coffer-http' as never,
          Role: undefined,
          Code: {},
          Environment: { Variables: { COFFER_FUNCTION_URL: `${receiverUrl}/ok`, DB_PASSWORD: envSecret } },
        }),
      ),
    );
  });

  it('records a failed call once, with its error code', async () => {
    const failure = (await sm.send(new GetSecretValueCommand({ SecretId: 'audit/does-not-exist' })).then(
      () => assert.fail('expected ResourceNotFoundException'),
      (error: unknown) => error,
    )) as { name: string; $metadata: { requestId: string } };
    assert.equal(failure.name, 'ResourceNotFoundException');
    calls.set(failure.$metadata.requestId, 'GetSecretValue');
    const event = auditEvents(server.dataDir).find((candidate) => candidate.requestID === failure.$metadata.requestId)!;
    assert.equal(event.errorCode, 'ResourceNotFoundException');
    assert.match(event.errorMessage, /can't find/i);
    assert.equal(event.responseElements, null);
  });

  it('records a call refused by SigV4 with the access key it claimed', async () => {
    const forged = server.kms({ credentials: { accessKeyId: server.admin.accessKeyId, secretAccessKey: 'not-the-secret' } });
    const failure = (await forged.send(new ListKeysCommand({})).then(
      () => assert.fail('expected a signature error'),
      (error: unknown) => error,
    )) as { name: string; $metadata: { requestId: string } };
    assert.equal(failure.name, 'InvalidSignatureException');
    calls.set(failure.$metadata.requestId, 'ListKeys');
    const event = auditEvents(server.dataDir).find((candidate) => candidate.requestID === failure.$metadata.requestId)!;
    assert.equal(event.errorCode, 'InvalidSignatureException');
    assert.deepEqual(event.userIdentity, { type: 'Unknown', accessKeyId: server.admin.accessKeyId });
  });

  it('records a call signed for another service with the access key it claimed', async () => {
    const response = await rawCall(server.url, { target: 'TrentService.ListKeys', credentials: server.admin, service: 'secretsmanager' });
    assert.equal(response.json?.__type, 'InvalidSignatureException');
    const requestId = response.headers.get('x-amzn-requestid')!;
    calls.set(requestId, 'ListKeys');
    const event = auditEvents(server.dataDir).find((candidate) => candidate.requestID === requestId)!;
    assert.equal(event.errorCode, 'InvalidSignatureException');
    assert.deepEqual(event.userIdentity, { type: 'Unknown', accessKeyId: server.admin.accessKeyId });
  });

  it('writes exactly one event per call, with the CloudTrail fields', async () => {
    const events = auditEvents(server.dataDir);
    for (const [requestId, operation] of calls) {
      const matching = events.filter((event) => event.requestID === requestId);
      assert.equal(matching.length, 1, `one event for ${operation} ${requestId}`);
      assert.equal(matching[0]!.eventName, operation);
    }
    const get = events.find((event) => event.eventName === 'GetSecretValue' && !event.errorCode)!;
    assert.equal(get.eventSource, 'secretsmanager.amazonaws.com');
    assert.equal(get.awsRegion, 'us-east-1');
    assert.equal(get.sourceIPAddress, '127.0.0.1');
    assert.match(get.userAgent, /aws-sdk-js/);
    assert.equal(get.readOnly, true);
    assert.equal(get.userIdentity.type, 'Root');
    assert.equal(get.userIdentity.arn, 'arn:aws:iam::000000000000:root');
    assert.equal(get.userIdentity.accessKeyId, server.admin.accessKeyId);
    assert.equal(get.requestParameters.SecretId, secretName);
    // CloudTrail records no response for a read; the resolved ARN is among the event's resources.
    assert.equal(get.responseElements, null);
    assert.ok(get.resources.some((resource: { ARN: string }) => /^arn:aws:secretsmanager:us-east-1:000000000000:secret:audit\/app-/.test(resource.ARN)));
    assert.match(get.eventID, /^[0-9a-f-]{36}$/);
    assert.ok(Math.abs(Date.parse(get.eventTime) - Date.now()) < 60_000);
    const encrypt = events.find((event) => event.eventName === 'Encrypt')!;
    assert.equal(encrypt.eventSource, 'kms.amazonaws.com');
    assert.equal(encrypt.requestParameters.Plaintext, undefined);
    assert.equal(encrypt.responseElements, null);
    const create = events.find((event) => event.eventName === 'CreateSecret')!;
    assert.equal(create.readOnly, false);
    assert.match(create.responseElements.ARN, /^arn:aws:secretsmanager:us-east-1:000000000000:secret:audit\/app-/);
    const createFunction = events.find((event) => event.eventName === 'CreateFunction')!;
    assert.equal(createFunction.eventSource, 'lambda.amazonaws.com');
    assert.deepEqual(createFunction.requestParameters.Environment.Variables, { COFFER_FUNCTION_URL: '***', DB_PASSWORD: '***' });
  });

  it('audits in-process calls of a rotation with invokedBy', async () => {
    const functionName = uniqueFunctionName('audit-rotator');
    await lambda.send(new CreateFunctionCommand({ FunctionName: functionName, Runtime: 'coffer-http' as never, Role: undefined, Code: {}, Environment: { Variables: { COFFER_FUNCTION_URL: `${receiverUrl}/ok` } } }));
    await sm.send(new RotateSecretCommand({ SecretId: secretName, RotationLambdaARN: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}` }));
    await server.server.coffer.rotation.idle();
    // The do-nothing function leaves the new version unfinished, which the runner finds out in-process.
    const inProcess = auditEvents(server.dataDir).filter((event) => event.invokedBy === 'secretsmanager.amazonaws.com');
    const describe = inProcess.find((event) => event.eventName === 'DescribeSecret');
    assert.ok(describe, `an in-process DescribeSecret event among ${inProcess.map((event) => event.eventName).join(', ')}`);
    assert.equal(describe.userIdentity.type, 'AWSService');
    assert.equal(describe.userIdentity.invokedBy, 'secretsmanager.amazonaws.com');
    assert.match(describe.requestParameters.SecretId, /^arn:aws:secretsmanager:/);
  });

  it('aws cloudtrail lookup-events --lookup-attributes AttributeKey=EventName,AttributeValue=GetSecretValue', async () => {
    const output = JSON.parse(
      await shellOk('aws cloudtrail lookup-events --lookup-attributes AttributeKey=EventName,AttributeValue=GetSecretValue --endpoint-url "$COFFER_URL"', {
        cwd: workDir,
        credentials: server.admin,
        region: 'us-east-1',
        env: { COFFER_URL: server.url },
      }),
    ) as { Events: Array<{ EventId: string; EventName: string; EventSource: string; ReadOnly: string; AccessKeyId: string; Username: string; CloudTrailEvent: string; Resources: Array<{ ResourceName: string }> }> };
    const expected = [...calls.values()].filter((operation) => operation === 'GetSecretValue').length;
    assert.equal(output.Events.length, expected);
    for (const event of output.Events) {
      assert.equal(event.EventName, 'GetSecretValue');
      assert.equal(event.EventSource, 'secretsmanager.amazonaws.com');
      assert.equal(event.ReadOnly, 'true');
      assert.equal(event.AccessKeyId, server.admin.accessKeyId);
      assert.equal(event.Username, 'root');
      const parsed = JSON.parse(event.CloudTrailEvent) as { eventID: string; eventName: string };
      assert.equal(parsed.eventID, event.EventId);
      assert.equal(parsed.eventName, 'GetSecretValue');
    }
    // Newest first: the failed lookup came last.
    assert.ok((JSON.parse(output.Events[0]!.CloudTrailEvent) as { errorCode?: string }).errorCode);
  });

  it('pages with --max-results and NextToken, and filters on ResourceName', async () => {
    const options = { cwd: workDir, credentials: server.admin, region: 'us-east-1', env: { COFFER_URL: server.url } };
    const first = JSON.parse(
      await shellOk('aws cloudtrail lookup-events --max-results 2 --no-paginate --endpoint-url "$COFFER_URL"', options),
    ) as { Events: Array<{ EventId: string }>; NextToken?: string };
    assert.equal(first.Events.length, 2);
    assert.ok(first.NextToken);
    const second = JSON.parse(
      await shellOk(`aws cloudtrail lookup-events --max-results 2 --no-paginate --next-token '${first.NextToken}' --endpoint-url "$COFFER_URL"`, options),
    ) as { Events: Array<{ EventId: string }> };
    assert.equal(second.Events.length, 2);
    assert.equal(new Set([...first.Events, ...second.Events].map((event) => event.EventId)).size, 4);
    const byResource = JSON.parse(
      await shellOk(`aws cloudtrail lookup-events --lookup-attributes AttributeKey=ResourceName,AttributeValue='${secretName}' --endpoint-url "$COFFER_URL"`, options),
    ) as { Events: Array<{ EventName: string }> };
    assert.ok(byResource.Events.some((event) => event.EventName === 'CreateSecret'));
  });

  it('never lets a secret value, plaintext, password or data key into the audit log or the database files', async () => {
    const rowsText = auditRows(server.dataDir)
      .map((row) => Object.values(row).map(String).join('\u0000'))
      .join('\n');
    const needles = [
      ...secretStrings.flatMap((value) => [value, Buffer.from(value).toString('base64'), Buffer.from(value).toString('hex')]),
      ...secretBytes.flatMap((value) => [value.toString('base64'), value.toString('hex')]),
      ...auditOnlySecrets,
    ];
    for (const needle of needles) assert.ok(!rowsText.includes(needle), `audit rows contain ${needle}`);
    await server.stop();
    const files = readdirSync(server.dataDir).filter((name) => name.startsWith('coffer.db') || name.startsWith('audit.db'));
    assert.ok(files.length > 0);
    for (const file of files) {
      const bytes = readFileSync(join(server.dataDir, file));
      for (const value of [...secretStrings.map((text) => Buffer.from(text)), ...secretBytes]) {
        assert.equal(bytes.indexOf(value), -1, `${file} contains a secret value`);
        assert.equal(bytes.indexOf(Buffer.from(value.toString('base64'))), -1, `${file} contains a secret value in base64`);
        assert.equal(bytes.indexOf(Buffer.from(value.toString('hex'))), -1, `${file} contains a secret value in hex`);
      }
    }
  });
});
