import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { DisableKeyCommand, EnableKeyCommand, ListAliasesCommand } from '@aws-sdk/client-kms';
import {
  CreateFunctionCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  InvokeCommand,
  UpdateFunctionConfigurationCommand,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import { createKey, rejectsWith } from '../../helpers/kms.js';
import { ACCOUNT_ID, buildZip, createTestFunctionRole, lambdaClient, REGION, ROLE, uniqueFunctionName } from '../../helpers/lambda.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

/** A handler that answers with the variables the function was started with. */
const ZIP = buildZip({ 'index.mjs': 'export const handler = async () => ({ secret: process.env.DB_PASSWORD ?? null });\n' });

/** A value no file of the data dir may hold in clear once it is stored. */
const newMarker = (label: string) => `marker-${label}-${randomBytes(12).toString('hex')}`;

/** The files of `dir` (recursively) whose bytes contain `marker`. */
function filesHolding(dir: string, marker: string): string[] {
  const needle = Buffer.from(marker, 'utf8');
  const found: string[] = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) found.push(...filesHolding(path, marker));
    else if (readFileSync(path).includes(needle)) found.push(path);
  }
  return found;
}

const payloadOf = (bytes: Uint8Array | undefined) => JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;

describe('function variables are sealed at rest (aws/lambda or the KMSKeyArn)', () => {
  let server: TestServer;
  let lambda: LambdaClient;
  const createZipFunction = (name: string, variables: Record<string, string>, extra: { KMSKeyArn?: string } = {}) =>
    lambda.send(
      new CreateFunctionCommand({ FunctionName: name, Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { ZipFile: ZIP }, Environment: { Variables: variables }, ...extra }),
    );

  before(async () => {
    server = await startTestServer();
    await createTestFunctionRole(server);
    lambda = lambdaClient(server);
  });
  after(async () => {
    lambda.destroy();
    await server.cleanup();
  });

  it('no file of the data dir holds a variable, a replaced variable or an HTTP function URL; they still read back after a restart', async () => {
    const zipName = uniqueFunctionName('sealed');
    const httpName = uniqueFunctionName('sealed-http');
    const replaced = newMarker('replaced');
    const current = newMarker('current');
    const urlToken = newMarker('url');
    const url = `https://hooks.example.test/rotate?token=${urlToken}`;

    const created = await createZipFunction(zipName, { DB_PASSWORD: replaced });
    assert.deepEqual(created.Environment?.Variables, { DB_PASSWORD: replaced });
    await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: zipName, Environment: { Variables: { DB_PASSWORD: current } } }));
    await lambda.send(new CreateFunctionCommand({ FunctionName: httpName, Runtime: 'coffer-http' as never, Role: ROLE, Code: {}, Environment: { Variables: { COFFER_FUNCTION_URL: url } } }));
    const invoked = await lambda.send(new InvokeCommand({ FunctionName: zipName }));
    assert.deepEqual(payloadOf(invoked.Payload), { secret: current }, 'the function runs with its variables opened');

    const aliases = await server.kms().send(new ListAliasesCommand({}));
    assert.ok(aliases.Aliases?.some((alias) => alias.AliasName === 'alias/aws/lambda'), 'aws/lambda is created on first use');

    await server.stop();
    for (const marker of [replaced, current, urlToken]) {
      assert.deepEqual(filesHolding(server.dataDir, marker), [], `${marker} is in clear in the data dir`);
    }

    const restarted = await startTestServer({ dataDir: server.dataDir });
    const client = lambdaClient(restarted, { credentials: server.admin });
    try {
      const got = await client.send(new GetFunctionCommand({ FunctionName: zipName }));
      assert.deepEqual(got.Configuration?.Environment?.Variables, { DB_PASSWORD: current });
      assert.equal(got.Configuration?.KMSKeyArn, undefined, 'the default key is not shown, as in Lambda');
      const http = await client.send(new GetFunctionConfigurationCommand({ FunctionName: httpName }));
      assert.deepEqual(http.Environment?.Variables, { COFFER_FUNCTION_URL: url });
    } finally {
      client.destroy();
      await restarted.stop();
    }
  });
});

describe('KMSKeyArn: a customer key seals the variables and its state applies', () => {
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

  it('is shown, opens for the caller, refuses while disabled, and UpdateFunctionConfiguration moves the variables to aws/lambda', async () => {
    const kms = server.kms();
    const key = await createKey(kms);
    const name = uniqueFunctionName('cmk');
    const created = await lambda.send(
      new CreateFunctionCommand({
        FunctionName: name, Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { ZipFile: ZIP },
        Environment: { Variables: { DB_PASSWORD: 'p1' } }, KMSKeyArn: key.Arn,
      }),
    );
    assert.equal(created.KMSKeyArn, key.Arn);
    assert.deepEqual((await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: name }))).Environment?.Variables, { DB_PASSWORD: 'p1' });

    await kms.send(new DisableKeyCommand({ KeyId: key.KeyId }));
    const refused = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: name }));
    assert.equal(refused.Environment?.Variables, undefined);
    assert.equal(refused.Environment?.Error?.ErrorCode, 'KMSDisabledException');
    await rejectsWith(lambda.send(new InvokeCommand({ FunctionName: name })), 'KMSDisabledException', 502);

    await kms.send(new EnableKeyCommand({ KeyId: key.KeyId }));
    const moved = await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: name, KMSKeyArn: '' }));
    assert.equal(moved.KMSKeyArn, undefined);
    await kms.send(new DisableKeyCommand({ KeyId: key.KeyId }));
    const invoked = await lambda.send(new InvokeCommand({ FunctionName: name }));
    assert.deepEqual(payloadOf(invoked.Payload), { secret: 'p1' }, 'sealed again under aws/lambda, the customer key is no longer needed');
    kms.destroy();
  });
});

/** Makes the row span an overflow page, which the update frees: its old bytes must not stay in the file. */
const PADDING = 'p'.repeat(3_500);

describe('variables stored in clear before sealing', () => {
  it('are sealed at the next start, leave no clear copy, and still read back', async () => {
    const first = await startTestServer();
    await createTestFunctionRole(first);
    const dataDir = first.dataDir;
    const admin = first.admin;
    await first.stop();
    const marker = newMarker('legacy');
    const name = uniqueFunctionName('legacy');
    const arn = `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:${name}`;
    // A row as Coffer wrote it before sealing existed: the variables as JSON text in `environment`.
    const db = new Database(join(dataDir, 'coffer.db'));
    db.prepare(
      `INSERT INTO functions (arn, account_id, region, name, kind, runtime, handler, code_zip, code_sha256, code_size, url, environment,
         timeout_seconds, description, role, created_at, last_modified, revision_id)
       VALUES (?, ?, ?, ?, 'zip', 'nodejs20.x', 'index.handler', ?, 'sha', ?, NULL, ?, 3, '', ?, 0, 0, 'r1')`,
    ).run(arn, ACCOUNT_ID, REGION, name, ZIP, ZIP.length, JSON.stringify({ DB_PASSWORD: marker, PADDING: PADDING }), ROLE);
    db.close();
    assert.notDeepEqual(filesHolding(dataDir, marker), [], 'the test row is in clear before the start');

    const upgraded = await startTestServer({ dataDir });
    await upgraded.stop();
    try {
      assert.deepEqual(filesHolding(dataDir, marker), [], 'the clear variables are gone from every file');
      const again = await startTestServer({ dataDir });
      const lambda = lambdaClient(again, { credentials: admin });
      try {
        const got = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: name }));
        assert.deepEqual(got.Environment?.Variables, { DB_PASSWORD: marker, PADDING });
        assert.deepEqual(payloadOf((await lambda.send(new InvokeCommand({ FunctionName: name }))).Payload), { secret: marker });
      } finally {
        lambda.destroy();
        await again.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
