import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateFunctionCommand, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { killChildServers, runCofferUntilExit, startChildServer } from '../../helpers/child-server.js';
import { buildZip, createTestFunctionRole, lambdaClient, REGION, ROLE, uniqueFunctionName } from '../../helpers/lambda.js';
import { LAMBDA_TRUST_POLICY } from '../../helpers/principals.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

/**
 * What a hosted function sees and what it leaves behind: SECRETS_MANAGER_ENDPOINT (AWS's rotation templates
 * read it) points at Coffer unless the function sets its own; each invocation's log lines are kept in the
 * data dir, the last few per function; `--log-level debug` (or COFFER_LOG_LEVEL) shows them in the server's
 * log as they are printed.
 */
const ENDPOINT_REPORTER = `import os

def lambda_handler(event, context):
    print('endpoint check for', context.aws_request_id)
    return os.environ.get('SECRETS_MANAGER_ENDPOINT')
`;

const decoder = new TextDecoder();

function createPython(lambda: LambdaClient, name: string, code: string, variables?: Record<string, string>) {
  return lambda.send(
    new CreateFunctionCommand({
      FunctionName: name,
      Runtime: 'python3.12',
      Role: ROLE,
      Handler: 'lambda_function.lambda_handler',
      Code: { ZipFile: buildZip({ 'lambda_function.py': code }) },
      Environment: variables ? { Variables: variables } : undefined,
    }),
  );
}

async function invoke(lambda: LambdaClient, name: string) {
  const output = await lambda.send(new InvokeCommand({ FunctionName: name, Payload: Buffer.from('{}') }));
  assert.equal(output.FunctionError, undefined, decoder.decode(output.Payload));
  return { requestId: output.$metadata.requestId!, payload: JSON.parse(decoder.decode(output.Payload)) as unknown };
}

describe('hosted functions: environment and kept logs', () => {
  let server: TestServer;
  let lambda: LambdaClient;

  before(async () => {
    server = await startTestServer();
    await createTestFunctionRole(server);
    lambda = lambdaClient(server);
  });
  after(async () => {
    lambda.destroy();
    await server.cleanup();
  });

  it("SECRETS_MANAGER_ENDPOINT is Coffer's own URL, unless the function sets its own", async () => {
    const plain = uniqueFunctionName('endpoint');
    await createPython(lambda, plain, ENDPOINT_REPORTER);
    assert.equal((await invoke(lambda, plain)).payload, server.url);

    const own = uniqueFunctionName('own-endpoint');
    await createPython(lambda, own, ENDPOINT_REPORTER, { SECRETS_MANAGER_ENDPOINT: 'https://secretsmanager.example.invalid' });
    assert.equal((await invoke(lambda, own)).payload, 'https://secretsmanager.example.invalid');
  });

  it('keeps each invocation\'s log lines in <data-dir>/function-logs, private, the last 20 per function', async () => {
    const name = uniqueFunctionName('logged');
    await createPython(lambda, name, ENDPOINT_REPORTER);
    const requestIds: string[] = [];
    for (let i = 0; i < 22; i++) requestIds.push((await invoke(lambda, name)).requestId);

    const dir = join(server.dataDir, 'function-logs', '000000000000', REGION, name);
    const files = readdirSync(dir).sort();
    assert.equal(files.length, 20, 'older invocations are removed');
    assert.ok(files.at(-1)!.endsWith(`${requestIds.at(-1)}.log`));
    assert.ok(!files.some((file) => file.includes(requestIds[0]!)), 'the oldest is gone');
    const last = readFileSync(join(dir, files.at(-1)!), 'utf8');
    assert.match(last, new RegExp(`^START RequestId: ${requestIds.at(-1)} `));
    assert.ok(last.includes(`endpoint check for ${requestIds.at(-1)}\n`), last);
    assert.ok(last.endsWith(`END RequestId: ${requestIds.at(-1)} Outcome: succeeded\n`), last);
    assert.equal(statSync(join(dir, files.at(-1)!)).mode & 0o777, 0o600);
    assert.equal(statSync(join(server.dataDir, 'function-logs')).mode & 0o777, 0o700);
  });
});

describe('coffer server --log-level', () => {
  let dataDir: string;
  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'coffer-log-level-'));
  });
  after(async () => {
    await killChildServers();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Starts a server with the given flags or environment, invokes a printing function, stops it; its log lines about that invocation. */
  async function serverLogAround(options: { args?: string[]; env?: Record<string, string> }): Promise<string> {
    const child = await startChildServer({ dataDir, ...options });
    const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
    const lambda = new LambdaClient({ endpoint: child.url, region: REGION, credentials, maxAttempts: 1 });
    const iam = new IAMClient({ endpoint: child.url, region: REGION, credentials, maxAttempts: 1 });
    try {
      // The function's role, trusted by Lambda; the data dir keeps it from the first start on.
      await iam.send(new CreateRoleCommand({ RoleName: 'coffer-test-function', AssumeRolePolicyDocument: JSON.stringify(LAMBDA_TRUST_POLICY) })).catch((error: Error) => {
        if (error.name !== 'EntityAlreadyExistsException') throw error;
      });
      const name = uniqueFunctionName('printer');
      await createPython(lambda, name, ENDPOINT_REPORTER);
      const { requestId } = await invoke(lambda, name);
      await child.stop();
      return child.stderr().split('\n').filter((line) => line.includes(requestId)).join('\n');
    } finally {
      lambda.destroy();
      iam.destroy();
    }
  }

  it('debug shows what a function prints; the default (info) does not; COFFER_LOG_LEVEL sets it too', async () => {
    const debug = await serverLogAround({ args: ['--dev', '--log-level', 'debug'] });
    assert.match(debug, /"message":"function output".*"line":"endpoint check for /);
    const quiet = await serverLogAround({ args: ['--dev'] });
    assert.doesNotMatch(quiet, /function output/, 'no function output at info');
    const fromEnv = await serverLogAround({ args: ['--dev'], env: { COFFER_LOG_LEVEL: 'debug' } });
    assert.match(fromEnv, /"message":"function output"/);
  });

  it('refuses a level it does not know, before touching the data dir', async () => {
    const result = await runCofferUntilExit({ dataDir: join(dataDir, 'never'), args: ['--log-level', 'loud'] });
    assert.equal(result.code, 2);
    assert.equal(existsSync(join(dataDir, 'never')), false);
    assert.match(result.stderr, /--log-level must be one of debug, info, warn, error, not loud/);
  });
});
