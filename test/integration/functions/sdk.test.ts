import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  CreateFunctionCommand,
  DeleteFunctionCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  InvokeCommand,
  ListFunctionsCommand,
  ResourceConflictException,
  ResourceNotFoundException,
  InvalidParameterValueException,
  UpdateFunctionConfigurationCommand,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import { DescribeSecretCommand } from '@aws-sdk/client-secrets-manager';
import { buildZip, createTestFunctionRole, lambdaClient, ROLE, uniqueFunctionName } from '../../helpers/lambda.js';
import { secretsClient } from '../../helpers/secrets.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';
import { createExecutionRole } from '../../helpers/principals.js';

/** Coffer's own node_modules: a Node handler loads the AWS SDK from there, as a package would bundle it. */
const NODE_MODULES = fileURLToPath(new URL('../../../../node_modules/', import.meta.url));

const NODE_HANDLERS = {
  'index.mjs': `export const handler = async (event, context) => ({
  event,
  functionName: context.functionName,
  requestId: context.awsRequestId,
  remainingOk: context.getRemainingTimeInMillis() > 0,
  env: process.env,
});
`,
  'callback.js': `exports.handler = function (event, context, callback) {
  setTimeout(() => callback(null, { style: 'callback', doubled: event.n * 2 }), 5);
};
exports.fails = async () => {
  throw new TypeError('the handler failed');
};
exports.throwsString = async () => {
  throw 'plain string';
};
`,
  'sdk.cjs': `const { createRequire } = require('node:module');
// The package "bundles" the SDK: here it is loaded from a directory named in the function's environment.
const sdk = createRequire(process.env.SDK_MODULES)('@aws-sdk/client-secrets-manager');
const client = new sdk.SecretsManagerClient({});
exports.handler = async (event) => {
  const created = await client.send(new sdk.CreateSecretCommand({ Name: event.Name, SecretString: 'from node' }));
  return { ARN: created.ARN };
};
`,
};

describe('@aws-sdk/client-lambda against Coffer', () => {
  let server: TestServer;
  let lambda: LambdaClient;
  const zip = buildZip(NODE_HANDLERS);
  const decoder = new TextDecoder();
  const payloadOf = (bytes: Uint8Array | undefined) => JSON.parse(decoder.decode(bytes)) as Record<string, any>;

  const create = (name: string, handler: string, extra: Partial<ConstructorParameters<typeof CreateFunctionCommand>[0]> = {}) =>
    lambda.send(new CreateFunctionCommand({ FunctionName: name, Runtime: 'nodejs20.x', Role: ROLE, Handler: handler, Code: { ZipFile: zip }, ...extra }));

  before(async () => {
    server = await startTestServer();
    await createExecutionRole(server, 'coffer-test-function', ['secretsmanager:CreateSecret']);
    lambda = lambdaClient(server);
  });
  after(async () => {
    lambda.destroy();
    await server.cleanup();
  });

  it('CreateFunction answers 201 with the FunctionConfiguration', async () => {
    const name = uniqueFunctionName('create');
    const created = await create(name, 'index.handler', { Timeout: 10, Description: 'an ESM handler', Environment: { Variables: { GREETING: 'hi' } } });
    assert.equal(created.$metadata.httpStatusCode, 201);
    assert.equal(created.FunctionName, name);
    assert.equal(created.FunctionArn, `arn:aws:lambda:us-east-1:000000000000:function:${name}`);
    assert.equal(created.Runtime, 'nodejs20.x');
    assert.equal(created.Timeout, 10);
    assert.equal(created.Description, 'an ESM handler');
    assert.deepEqual(created.Environment?.Variables, { GREETING: 'hi' });
    assert.equal(created.CodeSha256, createHash('sha256').update(zip).digest('base64'));
    assert.equal(created.CodeSize, zip.length);
    assert.equal(created.State, 'Active');
    const got = await lambda.send(new GetFunctionCommand({ FunctionName: name }));
    assert.equal(got.Configuration?.RevisionId, created.RevisionId);
    const configuration = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: `000000000000:function:${name}` }));
    assert.equal(configuration.FunctionArn, created.FunctionArn);
  });

  it('Invoke runs an ES module handler with the event, a context and a Lambda environment without Coffer secrets', async () => {
    const name = uniqueFunctionName('esm');
    await create(name, 'index.handler', { Environment: { Variables: { GREETING: 'hi' } } });
    const canary = 'must-not-reach-the-function';
    process.env.COFFER_ROOT_KEY = canary;
    process.env.COFFER_TEST_CANARY = canary;
    try {
      const response = await lambda.send(new InvokeCommand({ FunctionName: name, Payload: JSON.stringify({ hello: 'world' }) }));
      assert.equal(response.StatusCode, 200);
      assert.equal(response.FunctionError, undefined);
      assert.equal(response.ExecutedVersion, '$LATEST');
      const result = payloadOf(response.Payload);
      assert.deepEqual(result.event, { hello: 'world' });
      assert.equal(result.functionName, name);
      assert.equal(result.requestId, response.$metadata.requestId);
      assert.equal(result.remainingOk, true);
      const env = result.env as Record<string, string>;
      assert.equal(env.GREETING, 'hi');
      assert.equal(env.AWS_ENDPOINT_URL, server.url);
      assert.equal(env.AWS_REGION, 'us-east-1');
      assert.equal(env.AWS_DEFAULT_REGION, 'us-east-1');
      assert.equal(env.AWS_LAMBDA_FUNCTION_NAME, name);
      assert.match(env.AWS_ACCESS_KEY_ID!, /^ASIA[A-Z2-7]{16}$/);
      assert.ok(env.AWS_SECRET_ACCESS_KEY && env.AWS_SECRET_ACCESS_KEY.length >= 40);
      assert.equal(env.PATH, process.env.PATH);
      assert.notEqual(env.HOME, process.env.HOME);
      for (const [key, value] of Object.entries(env)) {
        assert.ok(!key.startsWith('COFFER_'), `the function saw ${key}`);
        assert.notEqual(value, canary, `the function saw Coffer's ${key}`);
      }
      // SECRETS_MANAGER_ENDPOINT: Coffer's URL, for AWS's rotation templates, which read it.
      assert.equal(env.SECRETS_MANAGER_ENDPOINT, server.url);
      const allowed = new Set(['PATH', 'LANG', 'TZ', 'HOME', 'TMPDIR', 'GREETING', 'LAMBDA_TASK_ROOT', '_HANDLER', 'PWD', 'SHLVL', '_', 'SECRETS_MANAGER_ENDPOINT']);
      const unexpected = Object.keys(env).filter((key) => !allowed.has(key) && !key.startsWith('AWS_'));
      assert.deepEqual(unexpected, [], 'only the function variables and what Lambda sets');
    } finally {
      delete process.env.COFFER_ROOT_KEY;
      delete process.env.COFFER_TEST_CANARY;
    }
  });

  it('a callback-style CommonJS handler, addressed by its full ARN', async () => {
    const name = uniqueFunctionName('callback');
    const created = await create(name, 'callback.handler');
    const response = await lambda.send(new InvokeCommand({ FunctionName: created.FunctionArn, Payload: JSON.stringify({ n: 21 }) }));
    assert.deepEqual(payloadOf(response.Payload), { style: 'callback', doubled: 42 });
  });

  it('a handler that throws: X-Amz-Function-Error Unhandled and the error document', async () => {
    const name = uniqueFunctionName('fails');
    await create(name, 'callback.fails');
    const response = await lambda.send(new InvokeCommand({ FunctionName: name, Payload: '{}' }));
    assert.equal(response.StatusCode, 200);
    assert.equal(response.FunctionError, 'Unhandled');
    const error = payloadOf(response.Payload);
    assert.equal(error.errorType, 'TypeError');
    assert.equal(error.errorMessage, 'the handler failed');
    assert.ok(Array.isArray(error.trace) && String(error.trace[0]).includes('TypeError: the handler failed'));

    await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: name, Handler: 'callback.throwsString' }));
    const thrown = await lambda.send(new InvokeCommand({ FunctionName: name }));
    assert.equal(thrown.FunctionError, 'Unhandled');
    assert.deepEqual(payloadOf(thrown.Payload), { errorType: 'string', errorMessage: 'plain string', trace: [] });

    await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: name, Handler: 'callback.missing' }));
    const missing = await lambda.send(new InvokeCommand({ FunctionName: name }));
    assert.equal(missing.FunctionError, 'Unhandled');
    assert.equal(payloadOf(missing.Payload).errorType, 'Runtime.HandlerNotFound');
  });

  it('a Node handler with its own AWS SDK reaches Coffer through AWS_ENDPOINT_URL and the minted key', async () => {
    const name = uniqueFunctionName('node-sdk');
    await create(name, 'sdk.handler', { Timeout: 30, Environment: { Variables: { SDK_MODULES: NODE_MODULES } } });
    const secretName = uniqueFunctionName('node-made');
    const response = await lambda.send(new InvokeCommand({ FunctionName: name, Payload: JSON.stringify({ Name: secretName }) }));
    const result = payloadOf(response.Payload);
    assert.equal(response.FunctionError, undefined, JSON.stringify(result));
    const described = await secretsClient(server).send(new DescribeSecretCommand({ SecretId: secretName }));
    assert.equal(described.ARN, result.ARN);
  });

  it('InvocationType DryRun answers 204 and Event answers 202', async () => {
    const name = uniqueFunctionName('types');
    await create(name, 'callback.handler');
    const dry = await lambda.send(new InvokeCommand({ FunctionName: name, InvocationType: 'DryRun' }));
    assert.equal(dry.StatusCode, 204);
    const event = await lambda.send(new InvokeCommand({ FunctionName: name, InvocationType: 'Event', Payload: JSON.stringify({ n: 1 }) }));
    assert.equal(event.StatusCode, 202);
    await assert.rejects(lambda.send(new InvokeCommand({ FunctionName: 'absent', InvocationType: 'DryRun' })), ResourceNotFoundException);
  });

  it('LogType Tail returns the end of the log, base64', async () => {
    const name = uniqueFunctionName('tail');
    const logging = buildZip({ 'index.js': "exports.handler = async () => { console.log('a line from the handler'); return 1; };\n" });
    await lambda.send(new CreateFunctionCommand({ FunctionName: name, Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { ZipFile: logging } }));
    const response = await lambda.send(new InvokeCommand({ FunctionName: name, LogType: 'Tail' }));
    const log = Buffer.from(response.LogResult!, 'base64').toString('utf8');
    assert.match(log, /^START RequestId: \S+ Version: \$LATEST\n/);
    assert.match(log, /a line from the handler\n/);
    assert.match(log, /END RequestId: \S+\nREPORT RequestId: /);
  });

  it('ListFunctions pages with MaxItems and NextMarker', async () => {
    const other = startTestServer();
    const fresh = await other;
    await createTestFunctionRole(fresh);
    const client = lambdaClient(fresh);
    try {
      const names = ['a-fn', 'b-fn', 'c-fn', 'd-fn', 'e-fn'];
      for (const name of names) {
        await client.send(new CreateFunctionCommand({ FunctionName: name, Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { ZipFile: zip } }));
      }
      const seen: string[] = [];
      let marker: string | undefined;
      let pages = 0;
      do {
        const page = await client.send(new ListFunctionsCommand({ MaxItems: 2, Marker: marker }));
        seen.push(...page.Functions!.map((fn) => fn.FunctionName!));
        marker = page.NextMarker;
        pages += 1;
      } while (marker);
      assert.deepEqual(seen, names);
      assert.equal(pages, 3);
      const otherRegion = await lambdaClient(fresh, { region: 'eu-west-1' }).send(new ListFunctionsCommand({}));
      assert.deepEqual(otherRegion.Functions, []);
    } finally {
      client.destroy();
      await fresh.cleanup();
    }
  });

  it('errors carry Lambda codes and statuses', async () => {
    const name = uniqueFunctionName('errors');
    await create(name, 'index.handler');
    const conflict = await create(name, 'index.handler').catch((error: unknown) => error);
    assert.ok(conflict instanceof ResourceConflictException);
    assert.equal(conflict.$metadata.httpStatusCode, 409);

    const missing = await lambda.send(new GetFunctionCommand({ FunctionName: 'absent' })).catch((error: unknown) => error);
    assert.ok(missing instanceof ResourceNotFoundException);
    assert.equal(missing.$metadata.httpStatusCode, 404);
    assert.equal(missing.message, 'Function not found: arn:aws:lambda:us-east-1:000000000000:function:absent');
    assert.equal(missing.Type, 'User');

    const runtime = await create(uniqueFunctionName('py27'), 'index.handler', { Runtime: 'python2.7' }).catch((error: unknown) => error);
    assert.ok(runtime instanceof InvalidParameterValueException);
    assert.equal(runtime.$metadata.httpStatusCode, 400);

    const reserved = await create(uniqueFunctionName('reserved'), 'index.handler', { Environment: { Variables: { AWS_REGION: 'x' } } }).catch((e: unknown) => e);
    assert.ok(reserved instanceof InvalidParameterValueException);
    assert.match(reserved.message, /Reserved keys used in this request: AWS_REGION/);

    const notZip = await create(uniqueFunctionName('notzip'), 'index.handler', { Code: { ZipFile: Buffer.from('not a zip') } }).catch((e: unknown) => e);
    assert.ok(notZip instanceof InvalidParameterValueException);
    assert.match(notZip.message, /Could not unzip uploaded file/);

    const otherAccount = await lambda.send(new GetFunctionCommand({ FunctionName: `arn:aws:lambda:us-east-1:111111111111:function:${name}` })).catch((e: unknown) => e);
    assert.ok(otherAccount instanceof ResourceNotFoundException);

    const version = await lambda.send(new InvokeCommand({ FunctionName: name, Qualifier: '1' })).catch((e: unknown) => e);
    assert.ok(version instanceof ResourceNotFoundException);

    const badJson = await lambda.send(new InvokeCommand({ FunctionName: name, Payload: '{not json' })).catch((e: unknown) => e);
    assert.equal((badJson as Error).name, 'InvalidRequestContentException');

    const deleted = await lambda.send(new DeleteFunctionCommand({ FunctionName: name }));
    assert.equal(deleted.$metadata.httpStatusCode, 204);
  });
});
