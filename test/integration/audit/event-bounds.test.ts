import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CreateSecretCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { MAX_EVENT_BYTES, MEMBER_CAP_BYTES, RESOURCES_CAP_BYTES } from '../../../src/audit/index.js';
import { auditRows, type AuditRow } from '../../helpers/audit.js';
import { createUser, type Keys } from '../../helpers/principals.js';
import { secretsClient, uniqueSecretName } from '../../helpers/secrets.js';
import { rawCall } from '../../helpers/signed-fetch.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

/**
 * Issue 13, part 3: a principal with no permissions at all must not be able to grow audit.db by what it sends.
 * Every member over its AWS limit or past MEMBER_CAP_BYTES is stored once, as a prefix with its length and
 * SHA-256; the whole event stays under MAX_EVENT_BYTES. The figures for docs/ARCHITECTURE.md come from here.
 */
describe('audit events are bounded whatever a caller sends', () => {
  let server: TestServer;
  let nobody: Keys;
  const ONE_MIB = 1024 * 1024;

  before(async () => {
    server = await startTestServer();
    nobody = (await createUser(server, server.admin, 'audit-bounds-nobody')).keys;
  });
  after(async () => {
    await server?.cleanup();
  });

  const call = (target: string, body: string, headers: Record<string, string> = {}) =>
    rawCall(server.url, { target, body, credentials: nobody, service: 'secretsmanager', headers });

  /** The row of the request's event, and its stored size (body plus the resource-name index column). */
  function rowOf(requestId: string): { row: AuditRow; event: Record<string, any>; bytes: number } {
    const row = auditRows(server.dataDir).find((candidate) => (JSON.parse(candidate.body) as { requestID: string }).requestID === requestId);
    assert.ok(row, `no audit event for request ${requestId}`);
    const bytes = Buffer.byteLength(row.body) + Buffer.byteLength(String(row.resource_names));
    return { row, event: JSON.parse(row.body) as Record<string, any>, bytes };
  }

  const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

  it('stores a ~1 MiB SecretId once, as a prefix with its length and SHA-256, and names no resource with it', async () => {
    const secretId = `huge/${'x'.repeat(ONE_MIB - 100)}`;
    const response = await call('secretsmanager.GetSecretValue', JSON.stringify({ SecretId: secretId }));
    assert.equal(response.status, 400);
    const { row, event, bytes } = rowOf(response.headers.get('x-amzn-requestid')!);
    assert.deepEqual(event.requestParameters.SecretId, {
      truncated: true,
      prefix: secretId.slice(0, 256),
      length: secretId.length,
      sha256: sha256(secretId),
    });
    assert.deepEqual(event.resources, []);
    assert.equal(row.resource_names, '[]');
    assert.ok(bytes < 4096, `the event takes ${bytes} bytes`);
  });

  it('truncates a member over its AWS limit even when it is short (Name: 512)', async () => {
    const name = 'n'.repeat(600);
    const response = await call('secretsmanager.CreateSecret', JSON.stringify({ Name: name, SecretString: 'v' }));
    assert.equal(response.status, 400);
    const { event } = rowOf(response.headers.get('x-amzn-requestid')!);
    assert.equal(event.requestParameters.Name.truncated, true);
    assert.equal(event.requestParameters.Name.length, 600);
    assert.equal(event.requestParameters.Name.sha256, sha256(name));
    assert.equal(event.requestParameters.SecretString, undefined);
  });

  it('caps a request of many small members, and long member names, at MAX_EVENT_BYTES', async () => {
    const junk: Record<string, string> = {};
    // Under the 10,000 values a request may hold (protocol/input-bounds.ts), and still close to the 1 MiB body limit.
    for (let index = 0; index < 9_000; index++) junk[`m${index}`] = 'v'.repeat(100);
    const longName = `k${'\\"'.repeat(2000)}`;
    const response = await call('secretsmanager.GetSecretValue', JSON.stringify({ SecretId: 'x', Junk: junk, [longName]: '1' }));
    assert.ok(response.status >= 400);
    const { event, bytes } = rowOf(response.headers.get('x-amzn-requestid')!);
    assert.ok(bytes <= MAX_EVENT_BYTES + RESOURCES_CAP_BYTES, `the event takes ${bytes} bytes`);
    assert.equal(event.requestParameters.truncated, true);
    assert.ok(event.requestParameters.length > ONE_MIB / 2);
  });

  it('keeps every stored event within its bound when every field is as long as a caller can make it', async (t) => {
    // Every resource-naming member at its limit, quotes and backslashes (two bytes each in JSON), a long
    // User-Agent and region: the worst a caller gets stored. Each member is a valid size, so none is truncated.
    const nasty = (length: number) => '"\\'.repeat(length / 2);
    const body: Record<string, unknown> = {};
    for (const member of ['ARN', 'SecretId', 'KeyId', 'FunctionArn', 'TargetKeyId', 'DestinationKeyId']) body[member] = nasty(2046);
    for (let index = 0; index < 200; index++) body[`Member${index}`] = nasty(2046);
    const response = await rawCall(server.url, {
      target: 'secretsmanager.GetSecretValue',
      body: JSON.stringify(body),
      credentials: nobody,
      service: 'secretsmanager',
      region: `r${'-'.repeat(2000)}`,
      headers: { 'user-agent': nasty(8000) },
    });
    assert.ok(response.status >= 400);
    const { event, bytes } = rowOf(response.headers.get('x-amzn-requestid')!);
    assert.ok(Buffer.byteLength(JSON.stringify(event)) <= MAX_EVENT_BYTES);
    assert.ok(bytes <= MAX_EVENT_BYTES + RESOURCES_CAP_BYTES, `the event takes ${bytes} bytes`);
    assert.ok(event.userAgent.length <= 1024);
    t.diagnostic(`worst event built here: ${bytes} bytes (body and resource names)`);
    for (const value of Object.values(event.requestParameters as object)) {
      if (typeof value === 'string') assert.ok(Buffer.byteLength(JSON.stringify(value)) <= MEMBER_CAP_BYTES);
    }
  });

  it('leaves an ordinary event as it was (the figure quoted as typical)', async (t) => {
    const sm = secretsClient(server);
    const name = uniqueSecretName('bounds');
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'v1' }));
    const output = await sm.send(new GetSecretValueCommand({ SecretId: name }));
    const { event, bytes } = rowOf(output.$metadata.requestId!);
    assert.equal(event.requestParameters.SecretId, name);
    assert.deepEqual(event.resources.map((resource: { ARN: string }) => resource.ARN), [name, output.ARN]);
    t.diagnostic(`GetSecretValue event: ${bytes} bytes (body and resource names)`);
  });

  it('grows audit.db by a bounded amount per request, whatever the request size', async (t) => {
    const before = auditRows(server.dataDir).length;
    for (let index = 0; index < 20; index++) {
      await call('secretsmanager.GetSecretValue', JSON.stringify({ SecretId: 's'.repeat(ONE_MIB - 200), Other: 'o'.repeat(64) }));
    }
    const rows = auditRows(server.dataDir).slice(before);
    assert.equal(rows.length, 20);
    const stored = rows.reduce((sum, row) => sum + Buffer.byteLength(row.body) + Buffer.byteLength(String(row.resource_names)), 0);
    t.diagnostic(`20 requests of 1 MiB: ${stored} bytes stored (${Math.round(stored / 20)} per event)`);
    // The ValidationException now names the offending SecretId, as AWS does: its errorMessage is clipped to
    // 1024 characters (event-bounds.ts), so an event stays within about 3 KiB however long the request.
    assert.ok(stored / 20 < 3072);
  });
});
