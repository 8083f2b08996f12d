import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateKeyCommand, DescribeKeyCommand, ListKeysCommand, type KMSClient } from '@aws-sdk/client-kms';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';
import { request } from 'node:http';
import { rawCall, signedHeaders } from '../../helpers/signed-fetch.js';

const MINUTE = 60_000;

/** The SDK's error for a rejected call: its name is the wire __type. */
async function rejection(promise: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  assert.fail('the call succeeded');
}

/**
 * SigV4 over HTTP: every way a signature can be wrong gets AWS's code, and the credential scope decides the
 * region a caller works in.
 * https://docs.aws.amazon.com/kms/latest/APIReference/CommonErrors.html
 */
describe('SigV4 authentication over HTTP (dev mode on)', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ devMode: true });
  });
  after(async () => server.cleanup());

  it('an unsigned request → 403 MissingAuthenticationTokenException', async () => {
    const response = await rawCall(server.url, { target: 'TrentService.ListKeys' });
    assert.equal(response.status, 403, response.text);
    assert.equal(response.json?.__type, 'MissingAuthenticationTokenException');
    assert.equal(response.headers.get('content-type'), 'application/x-amz-json-1.1');
  });

  it('an unknown access key → UnrecognizedClientException', async () => {
    const kms = server.kms({ credentials: { accessKeyId: 'AKIAUNKNOWNUNKNOWN00', secretAccessKey: 'whatever' } });
    const error = await rejection(kms.send(new ListKeysCommand({})));
    assert.equal(error.name, 'UnrecognizedClientException');
    assert.equal(error.message, 'The security token included in the request is invalid.');
  });

  it('the right access key with the wrong secret → InvalidSignatureException', async () => {
    const kms = server.kms({ credentials: { accessKeyId: server.admin.accessKeyId, secretAccessKey: 'not-the-secret' } });
    const error = await rejection(kms.send(new ListKeysCommand({})));
    assert.equal(error.name, 'InvalidSignatureException');
    assert.match(error.message, /^The request signature we calculated does not match the signature you provided/);
  });

  it('a body changed after signing → InvalidSignatureException', async () => {
    const response = await rawCall(server.url, {
      target: 'TrentService.ListKeys',
      credentials: server.admin,
      body: '{"Limit":1}',
      sendBody: '{"Limit":2}',
    });
    assert.equal(response.status, 400, response.text);
    assert.equal(response.json?.__type, 'InvalidSignatureException');
  });

  it("a request signed 6 minutes ago → InvalidSignatureException 'Signature expired'", async () => {
    const response = await rawCall(server.url, {
      target: 'TrentService.ListKeys',
      credentials: server.admin,
      signingDate: new Date(Date.now() - 6 * MINUTE),
    });
    assert.equal(response.status, 400, response.text);
    assert.equal(response.json?.__type, 'InvalidSignatureException');
    assert.match(String(response.json?.message), /^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z/);
  });

  it("a request signed 6 minutes in the future → InvalidSignatureException 'not yet current'", async () => {
    const response = await rawCall(server.url, {
      target: 'TrentService.ListKeys',
      credentials: server.admin,
      signingDate: new Date(Date.now() + 6 * MINUTE),
    });
    assert.equal(response.status, 400, response.text);
    assert.equal(response.json?.__type, 'InvalidSignatureException');
    assert.match(String(response.json?.message), /^Signature not yet current: /);
  });

  it('a request signed 4 minutes off either way is still accepted', async () => {
    for (const offset of [-4 * MINUTE, 4 * MINUTE]) {
      const response = await rawCall(server.url, {
        target: 'TrentService.ListKeys',
        credentials: server.admin,
        signingDate: new Date(Date.now() + offset),
      });
      assert.equal(response.status, 200, response.text);
    }
  });

  it("signed for service 'secretsmanager' but aimed at TrentService → InvalidSignatureException", async () => {
    const response = await rawCall(server.url, { target: 'TrentService.ListKeys', credentials: server.admin, service: 'secretsmanager' });
    assert.equal(response.status, 400, response.text);
    assert.equal(response.json?.__type, 'InvalidSignatureException');
    assert.match(String(response.json?.message), /'kms'/);
  });

  it("a signed header sent more than once is signed as its values joined by ',' (AWS's get-header-key-duplicate)", async () => {
    const body = '{"Limit":1}';
    const options = { target: 'TrentService.ListKeys', credentials: server.admin, body };
    // The SDK's signer sees one header holding the canonical form of the three lines that are then sent.
    const signed = await signedHeaders(server.url, { ...options, headers: { 'x-test-repeated': 'value2,value2,value1' } });
    const repeated = await post(server.url, { ...signed, 'x-test-repeated': ['value2', 'value2', ' value1 '] }, body);
    assert.equal(repeated.status, 200, repeated.text);
    // Sent as node would join them (', '), the value is not the one signed.
    const joined = await post(server.url, { ...signed, 'x-test-repeated': 'value2, value2, value1' }, body);
    assert.equal(joined.status, 400, joined.text);
    assert.equal((JSON.parse(joined.text) as { __type: string }).__type, 'InvalidSignatureException');
    // A repeated header that node keeps only the first of (User-Agent) is signed with all its values too.
    const agents = await signedHeaders(server.url, { ...options, headers: { 'user-agent': 'first,second' } });
    const twoAgents = await post(server.url, { ...agents, 'user-agent': ['first', 'second'] }, body);
    assert.equal(twoAgents.status, 200, twoAgents.text);
  });

  it('the administrator key created on first start works', async () => {
    assert.match(server.admin.accessKeyId, /^AKIA[A-Z2-7]{16}$/);
    const output = await server.kms().send(new ListKeysCommand({}));
    assert.ok(Array.isArray(output.Keys));
  });

  it('with dev mode on, test/test is accepted', async () => {
    const output = await server.kms({ credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }).send(new ListKeysCommand({}));
    assert.ok(Array.isArray(output.Keys));
  });

  it('test with a wrong secret is still refused in dev mode', async () => {
    const kms = server.kms({ credentials: { accessKeyId: 'test', secretAccessKey: 'nope' } });
    assert.equal((await rejection(kms.send(new ListKeysCommand({})))).name, 'InvalidSignatureException');
  });

  describe('the region comes from the credential scope', () => {
    let ireland: KMSClient;
    let virginia: KMSClient;
    let keyId: string;
    before(async () => {
      ireland = server.kms({ region: 'eu-west-1' });
      virginia = server.kms({ region: 'us-east-1' });
      const created = await ireland.send(new CreateKeyCommand({ Description: 'lives in eu-west-1' }));
      keyId = created.KeyMetadata!.KeyId!;
      assert.match(created.KeyMetadata!.Arn!, /^arn:aws:kms:eu-west-1:000000000000:key\//);
    });

    it('a key created in eu-west-1 is listed there', async () => {
      const listed = await ireland.send(new ListKeysCommand({}));
      assert.ok(listed.Keys!.some((key) => key.KeyId === keyId));
    });

    it('and is invisible to a us-east-1 client', async () => {
      const listed = await virginia.send(new ListKeysCommand({}));
      assert.ok(!listed.Keys!.some((key) => key.KeyId === keyId));
      const error = await rejection(virginia.send(new DescribeKeyCommand({ KeyId: keyId })));
      assert.equal(error.name, 'NotFoundException');
    });
  });
});

describe('SigV4 authentication over HTTP (dev mode off)', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ devMode: false });
  });
  after(async () => server.cleanup());

  it('test/test → UnrecognizedClientException', async () => {
    const kms = server.kms({ credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const error = await rejection(kms.send(new ListKeysCommand({})));
    assert.equal(error.name, 'UnrecognizedClientException');
    assert.equal(error.$metadata?.httpStatusCode, 400);
  });

  it('the administrator key still works', async () => {
    assert.notEqual(server.admin.accessKeyId, 'test');
    const output = await server.kms().send(new ListKeysCommand({}));
    assert.ok(Array.isArray(output.Keys));
  });
});

/** A POST to `/` through node:http, which sends a header given as a list as one line per value. */
function post(endpoint: string, headers: Record<string, string | string[]>, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const sent = request(new URL('/', endpoint), { method: 'POST', headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    sent.on('error', reject);
    sent.end(body);
  });
}
