import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CreateFunctionCommand,
  InvalidParameterValueException,
  InvokeCommand,
  UpdateFunctionCodeCommand,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import { extractZip } from '../../../src/functions/zip.js';
import { buildZip, createTestFunctionRole, inProcessContext, lambdaClient, processAlive, ROLE, uniqueFunctionName, type ZipEntry } from '../../helpers/lambda.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

const SLEEPER = `import os
import subprocess
import time


def lambda_handler(event, context):
    child = subprocess.Popen(['sleep', '60'])
    with open(os.path.join(os.environ['PID_DIR'], 'pids'), 'w') as pids:
        pids.write('%d %d' % (os.getpid(), child.pid))
    time.sleep(30)
    return 'never'
`;

const FAILING = `def lambda_handler(event, context):
    helper(event)


def helper(event):
    raise ValueError('rotation step %s failed' % event['Step'])
`;

const EXITING = `import sys


def lambda_handler(event, context):
    print('about to exit')
    sys.exit(3)
`;

const ECHO = `import time


def lambda_handler(event, context):
    time.sleep(0.2)
    return {'echo': event, 'request': context.aws_request_id}
`;

describe('hosted functions: the child process', () => {
  let server: TestServer;
  let lambda: LambdaClient;
  let scratch: string;
  const decoder = new TextDecoder();
  const payloadOf = (bytes: Uint8Array | undefined) => JSON.parse(decoder.decode(bytes)) as any;
  const createPython = (name: string, files: Record<string, ZipEntry>, extra: Partial<ConstructorParameters<typeof CreateFunctionCommand>[0]> = {}) =>
    lambda.send(
      new CreateFunctionCommand({
        FunctionName: name,
        Runtime: 'python3.12',
        Role: ROLE,
        Handler: 'lambda_function.lambda_handler',
        Code: { ZipFile: buildZip(files) },
        ...extra,
      }),
    );

  before(async () => {
    server = await startTestServer();
    await createTestFunctionRole(server);
    lambda = lambdaClient(server);
    scratch = mkdtempSync(join(tmpdir(), 'coffer-hosting-'));
  });
  after(async () => {
    lambda.destroy();
    await server.cleanup();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('a handler that outlives its Timeout is killed with its children: Sandbox.Timedout', async () => {
    const name = uniqueFunctionName('sleeper');
    await createPython(name, { 'lambda_function.py': SLEEPER }, { Timeout: 1, Environment: { Variables: { PID_DIR: scratch } } });
    const started = Date.now();
    const response = await lambda.send(new InvokeCommand({ FunctionName: name }));
    const elapsedMs = Date.now() - started;
    assert.equal(response.FunctionError, 'Unhandled');
    assert.deepEqual(payloadOf(response.Payload), { errorType: 'Sandbox.Timedout', errorMessage: 'Task timed out after 1.00 seconds' });
    assert.ok(elapsedMs >= 1000 && elapsedMs < 2000, `answered after ${elapsedMs} ms`);
    const [handlerPid, sleepPid] = readFileSync(join(scratch, 'pids'), 'utf8').split(' ').map(Number);
    const deadline = Date.now() + 2000;
    while ((processAlive(handlerPid!) || processAlive(sleepPid!)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(processAlive(handlerPid!), false, 'the handler process is gone');
    assert.equal(processAlive(sleepPid!), false, "the handler's own child is gone");
  });

  it('a handler that raises: Unhandled, with the Python error document', async () => {
    const name = uniqueFunctionName('raises');
    await createPython(name, { 'lambda_function.py': FAILING });
    const response = await lambda.send(new InvokeCommand({ FunctionName: name, Payload: JSON.stringify({ Step: 'setSecret' }) }));
    assert.equal(response.StatusCode, 200);
    assert.equal(response.FunctionError, 'Unhandled');
    const error = payloadOf(response.Payload);
    assert.equal(error.errorType, 'ValueError');
    assert.equal(error.errorMessage, 'rotation step setSecret failed');
    assert.equal(error.requestId, response.$metadata.requestId);
    assert.equal(error.stackTrace.length, 2);
    assert.match(error.stackTrace[0], /lambda_function\.py", line 2, in lambda_handler/);
    assert.match(error.stackTrace[1], /line 6, in helper\n +raise ValueError/);

    const outcome = await server.server.coffer.functions.invoke(inProcessContext(), name, { Step: 'testSecret' });
    assert.deepEqual(outcome, { ok: false, errorType: 'ValueError', errorMessage: 'rotation step testSecret failed' });
  });

  it('a handler that exits, a module that does not import, a handler that is not there', async () => {
    const exits = uniqueFunctionName('exits');
    await createPython(exits, { 'lambda_function.py': EXITING });
    const exited = payloadOf((await lambda.send(new InvokeCommand({ FunctionName: exits }))).Payload);
    assert.equal(exited.errorType, 'Runtime.ExitError');
    assert.match(exited.errorMessage, /Runtime exited with error: exit status 3$/);

    const broken = uniqueFunctionName('broken');
    await createPython(broken, { 'lambda_function.py': 'import module_that_is_not_installed\n' });
    const imported = payloadOf((await lambda.send(new InvokeCommand({ FunctionName: broken }))).Payload);
    assert.equal(imported.errorType, 'Runtime.ImportModuleError');
    assert.match(imported.errorMessage, /^Unable to import module 'lambda_function': No module named 'module_that_is_not_installed'/);

    const wrong = uniqueFunctionName('wrong');
    await createPython(wrong, { 'lambda_function.py': ECHO }, { Handler: 'lambda_function.other' });
    const missing = payloadOf((await lambda.send(new InvokeCommand({ FunctionName: wrong }))).Payload);
    assert.deepEqual([missing.errorType, missing.errorMessage], ['Runtime.HandlerNotFound', "Handler 'other' missing on module 'lambda_function'"]);
  });

  it('in-process invoke (the rotation runner): the result, and ResourceNotFoundException for an unknown function', async () => {
    const name = uniqueFunctionName('echo');
    const created = await createPython(name, { 'lambda_function.py': ECHO });
    const ctx = inProcessContext();
    const outcome = await server.server.coffer.functions.invoke(ctx, created.FunctionArn!, { Step: 'createSecret' });
    assert.deepEqual(outcome, { ok: true, payload: { echo: { Step: 'createSecret' }, request: ctx.requestId } });

    const unknown = await server.server.coffer.functions.invoke(ctx, 'arn:aws:lambda:us-east-1:000000000000:function:absent', {});
    assert.deepEqual(unknown, {
      ok: false,
      errorType: 'ResourceNotFoundException',
      errorMessage: 'Function not found: arn:aws:lambda:us-east-1:000000000000:function:absent',
    });
    const elsewhere = await server.server.coffer.functions.invoke(inProcessContext({ region: 'eu-west-1' }), name, {});
    assert.equal(elsewhere.ok, false);
  });

  it('new code is unpacked once and runs for concurrent invocations', async () => {
    const name = uniqueFunctionName('concurrent');
    await createPython(name, { 'lambda_function.py': 'def lambda_handler(event, context):\n    return 1\n' });
    await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: name, ZipFile: buildZip({ 'lambda_function.py': ECHO, 'data/extra.txt': 'x' }) }));
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, n) => lambda.send(new InvokeCommand({ FunctionName: name, Payload: JSON.stringify({ n }) }))),
    );
    assert.deepEqual(
      results.map((response) => payloadOf(response.Payload).echo.n),
      [0, 1, 2, 3, 4, 5],
    );
  });

  it('packages whose entries leave the directory, or are symbolic links, are refused', async () => {
    const packages: Array<Record<string, ZipEntry>> = [
      { 'lambda_function.py': ECHO, '../escaped.py': 'x = 1\n' },
      { 'lambda_function.py': ECHO, 'lib/../../escaped.py': 'x = 1\n' },
      { 'lambda_function.py': ECHO, 'link': { symlinkTo: '/etc/passwd' } },
    ];
    for (const files of packages) {
      const error = await createPython(uniqueFunctionName('slip'), files).catch((e: unknown) => e);
      assert.ok(error instanceof InvalidParameterValueException, `refused: ${Object.keys(files).join(', ')}`);
      assert.match(error.message, /Could not unzip uploaded file/);
    }
  });

  it('unpacking checks every entry again (the stored package is not trusted)', async () => {
    const target = join(scratch, 'unpacked');
    await assert.rejects(extractZip(buildZip({ 'ok.py': 'x = 1\n', '../outside.py': 'x = 1\n' }), target));
    assert.equal(existsSync(join(scratch, 'outside.py')), false);
    await assert.rejects(extractZip(buildZip({ 'link': { symlinkTo: '/etc/passwd' } }), join(scratch, 'unpacked-link')));
    assert.deepEqual(existsSync(join(scratch, 'unpacked-link')) ? readdirSync(join(scratch, 'unpacked-link')) : [], []);
  });
});
