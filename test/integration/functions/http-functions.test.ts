import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  CreateFunctionCommand,
  GetFunctionCommand,
  InvalidParameterValueException,
  InvokeCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import { shell } from '../../helpers/aws-cli.js';
import { REPO_ROOT } from '../../helpers/child-server.js';
import { buildZip, inProcessContext, lambdaClient, uniqueFunctionName } from '../../helpers/lambda.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

type Received = { path: string; headers: IncomingHttpHeaders; body: unknown };

/**
 * A rotation endpoint of the user's: `/ok` answers 200 with JSON, `/empty` 204, `/fail` 500 with an HTML page,
 * `/lambda-error` 500 with a Lambda-shaped error, `/slow` never in time.
 */
function startReceiver(): Promise<{ url: string; received: Received[]; server: Server }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
      received.push({ path: req.url ?? '', headers: req.headers, body });
      const reply = (status: number, type: string, text: string) => {
        res.writeHead(status, { 'content-type': type });
        res.end(text);
      };
      if (req.url === '/ok') reply(200, 'application/json', JSON.stringify({ handled: body }));
      else if (req.url === '/empty') reply(204, 'text/plain', '');
      else if (req.url === '/fail') reply(500, 'text/html', '<html>internal error with a stack trace and a password=hunter2</html>');
      else if (req.url === '/lambda-error') reply(500, 'application/json', JSON.stringify({ errorType: 'DatabaseDown', errorMessage: 'cannot reach db' }));
      else if (req.url === '/slow') setTimeout(() => reply(200, 'application/json', '{}'), 5000);
      else reply(404, 'text/plain', 'no');
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received, server })),
  );
}

describe('HTTP functions (runtime coffer-http)', () => {
  let server: TestServer;
  let lambda: LambdaClient;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const decoder = new TextDecoder();
  const payloadOf = (bytes: Uint8Array | undefined) => JSON.parse(decoder.decode(bytes)) as any;
  const createHttp = (name: string, url: string, timeout = 3) =>
    lambda.send(
      new CreateFunctionCommand({
        FunctionName: name,
        Runtime: 'coffer-http' as never,
        Role: undefined,
        Code: {},
        Timeout: timeout,
        Environment: { Variables: { COFFER_FUNCTION_URL: url } },
      }),
    );

  before(async () => {
    server = await startTestServer();
    lambda = lambdaClient(server);
    receiver = await startReceiver();
  });
  after(async () => {
    lambda.destroy();
    receiver.server.closeAllConnections();
    await new Promise((resolve) => receiver.server.close(resolve));
    await server.cleanup();
  });

  it('`coffer functions create-http NAME --url URL` registers one, and Invoke POSTs the event to it', async () => {
    const name = uniqueFunctionName('cli-http');
    const result = await shell(`./bin/coffer functions create-http ${name} --url "$RECEIVER/ok" --timeout 7`, {
      cwd: REPO_ROOT,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      region: 'us-east-1',
      env: { AWS_ENDPOINT_URL: server.url, RECEIVER: receiver.url },
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '');
    const printed = JSON.parse(result.stdout) as { FunctionArn: string; Runtime: string; Timeout: number; Environment: { Variables: Record<string, string> } };
    assert.equal(printed.FunctionArn, `arn:aws:lambda:us-east-1:000000000000:function:${name}`);
    assert.equal(printed.Runtime, 'coffer-http');
    assert.equal(printed.Timeout, 7);
    assert.deepEqual(printed.Environment.Variables, { COFFER_FUNCTION_URL: `${receiver.url}/ok` });

    const event = { SecretId: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:db-AbCdEf', ClientRequestToken: 't'.repeat(32), Step: 'createSecret' };
    const response = await lambda.send(new InvokeCommand({ FunctionName: name, Payload: JSON.stringify(event) }));
    assert.equal(response.StatusCode, 200);
    assert.equal(response.FunctionError, undefined);
    assert.deepEqual(payloadOf(response.Payload), { handled: event });
    const request = receiver.received.at(-1)!;
    assert.deepEqual(request.body, event);
    assert.equal(request.headers['content-type'], 'application/json');
    assert.equal(request.headers['x-coffer-function-arn'], printed.FunctionArn);

    const again = await shell(`./bin/coffer functions create-http ${name} --url "$RECEIVER/ok"`, {
      cwd: REPO_ROOT,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      region: 'us-east-1',
      env: { AWS_ENDPOINT_URL: server.url, RECEIVER: receiver.url },
    });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /ResourceConflictException: Function already exist/);
  });

  it('a 2xx without a body is success with payload null; the in-process outcome says the same', async () => {
    const name = uniqueFunctionName('empty');
    const created = await createHttp(name, `${receiver.url}/empty`);
    const response = await lambda.send(new InvokeCommand({ FunctionName: name, Payload: '{"Step":"finishSecret"}' }));
    assert.equal(response.FunctionError, undefined);
    assert.equal(decoder.decode(response.Payload), 'null');
    const outcome = await server.server.coffer.functions.invoke(inProcessContext(), created.FunctionArn!, { Step: 'testSecret' });
    assert.deepEqual(outcome, { ok: true, payload: null });
    assert.deepEqual(receiver.received.at(-1)!.body, { Step: 'testSecret' });
  });

  it('any other status is a failure; its body is passed on only when it is a Lambda-shaped error', async () => {
    const failing = uniqueFunctionName('fails');
    await createHttp(failing, `${receiver.url}/fail`);
    const response = await lambda.send(new InvokeCommand({ FunctionName: failing, Payload: '{}' }));
    assert.equal(response.FunctionError, 'Unhandled');
    assert.deepEqual(payloadOf(response.Payload), { errorType: 'Function.HttpError', errorMessage: 'The function URL answered HTTP 500.' });

    const reporting = uniqueFunctionName('reports');
    await createHttp(reporting, `${receiver.url}/lambda-error`);
    const outcome = await server.server.coffer.functions.invoke(inProcessContext(), reporting, {});
    assert.deepEqual(outcome, { ok: false, errorType: 'DatabaseDown', errorMessage: 'cannot reach db' });
  });

  it('a network error and a timeout are failures', async () => {
    const closed = await new Promise<number>((resolve) => {
      const probe = createServer();
      probe.listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const unreachable = uniqueFunctionName('unreachable');
    await createHttp(unreachable, `http://127.0.0.1:${closed}/rotate`);
    const refused = await server.server.coffer.functions.invoke(inProcessContext(), unreachable, {});
    assert.deepEqual(refused, { ok: false, errorType: 'Function.HttpRequestFailed', errorMessage: 'The POST to the function URL failed: ECONNREFUSED' });

    const slow = uniqueFunctionName('slow');
    await createHttp(slow, `${receiver.url}/slow`, 1);
    const started = Date.now();
    const timedOut = await server.server.coffer.functions.invoke(inProcessContext(), slow, {});
    assert.deepEqual(timedOut, { ok: false, errorType: 'Sandbox.Timedout', errorMessage: 'Task timed out after 1.00 seconds' });
    assert.ok(Date.now() - started < 2000);
  });

  it('the URL is changed with UpdateFunctionConfiguration; an HTTP function has no code to update', async () => {
    const name = uniqueFunctionName('moves');
    await createHttp(name, `${receiver.url}/fail`);
    const updated = await lambda.send(
      new UpdateFunctionConfigurationCommand({ FunctionName: name, Environment: { Variables: { COFFER_FUNCTION_URL: `${receiver.url}/ok` } } }),
    );
    assert.equal(updated.Environment?.Variables?.COFFER_FUNCTION_URL, `${receiver.url}/ok`);
    const got = await lambda.send(new GetFunctionCommand({ FunctionName: name }));
    assert.equal(got.Configuration?.Runtime, 'coffer-http');
    const response = await lambda.send(new InvokeCommand({ FunctionName: name, Payload: '{"n":1}' }));
    assert.deepEqual(payloadOf(response.Payload), { handled: { n: 1 } });

    const code = await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: name, ZipFile: buildZip({ 'a.py': '' }) })).catch((e: unknown) => e);
    assert.ok(code instanceof InvalidParameterValueException);
  });

  it('refuses an HTTP function without a usable URL, or with code', async () => {
    for (const url of ['', 'ftp://example.com/x', 'not a url']) {
      const error = await createHttp(uniqueFunctionName('bad-url'), url).catch((e: unknown) => e);
      assert.ok(error instanceof InvalidParameterValueException, url);
      assert.match(error.message, /COFFER_FUNCTION_URL/);
    }
    const withCode = await lambda
      .send(
        new CreateFunctionCommand({
          FunctionName: uniqueFunctionName('with-code'),
          Runtime: 'coffer-http' as never,
          Role: undefined,
          Code: { ZipFile: buildZip({ 'a.py': '' }) },
          Environment: { Variables: { COFFER_FUNCTION_URL: `${receiver.url}/ok` } },
        }),
      )
      .catch((e: unknown) => e);
    assert.ok(withCode instanceof InvalidParameterValueException);
  });
});
