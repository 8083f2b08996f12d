import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildZip, restCall, ROLE } from '../../helpers/lambda.js';
import { rawCall } from '../../helpers/signed-fetch.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

const ADMIN = { accessKeyId: 'test', secretAccessKey: 'test' };

/** Lambda's REST protocol at the edge: routing, SigV4 with service `lambda`, and errors in Lambda's shape. */
describe('the Lambda REST protocol', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.cleanup();
  });

  function assertLambdaError(response: Awaited<ReturnType<typeof restCall>>, status: number, code: string) {
    assert.equal(response.status, status, response.text);
    assert.equal(response.headers.get('x-amzn-errortype'), code);
    assert.ok(response.headers.get('x-amzn-requestid'));
    assert.equal(response.json?.Type, status >= 500 ? 'Service' : 'User');
    assert.equal(typeof response.json?.message, 'string');
    assert.equal(response.json?.__type, undefined);
  }

  it('an unsigned request: MissingAuthenticationTokenException in the REST shape', async () => {
    const response = await restCall(server.url, { method: 'GET', path: '/2015-03-31/functions/' });
    assertLambdaError(response, 403, 'MissingAuthenticationTokenException');
  });

  it('a signature scoped to another service is refused', async () => {
    const response = await restCall(server.url, { method: 'GET', path: '/2015-03-31/functions/', credentials: ADMIN, service: 'kms' });
    assertLambdaError(response, 400, 'InvalidSignatureException');
    assert.match(String(response.json?.message), /'lambda'/);
  });

  it('a path or method without an operation: UnknownOperationException', async () => {
    assertLambdaError(await restCall(server.url, { method: 'GET', path: '/2015-03-31/layers', credentials: ADMIN }), 400, 'UnknownOperationException');
    assertLambdaError(await restCall(server.url, { method: 'PATCH', path: '/2015-03-31/functions/f', credentials: ADMIN }), 400, 'UnknownOperationException');
  });

  it('schema violations are ValidationException with AWS wording; the query is parsed too', async () => {
    const body = JSON.stringify({ FunctionName: 'v', Runtime: 'python3.12', Role: ROLE, Handler: 'a.b', Timeout: 0, Code: { ZipFile: buildZip({ 'a.py': '' }).toString('base64') } });
    const created = await restCall(server.url, { method: 'POST', path: '/2015-03-31/functions', body, credentials: ADMIN });
    assertLambdaError(created, 400, 'ValidationException');
    assert.equal(created.json?.message, "1 validation error detected: Value '0' at 'timeout' failed to satisfy constraint: Member must have value greater than or equal to 1");

    const listed = await restCall(server.url, { method: 'GET', path: '/2015-03-31/functions/?MaxItems=0', credentials: ADMIN });
    assertLambdaError(listed, 400, 'ValidationException');
    const ok = await restCall(server.url, { method: 'GET', path: '/2015-03-31/functions/?MaxItems=5', credentials: ADMIN });
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.json, { Functions: [] });
  });

  it('a body that is not JSON, and one over the limit', async () => {
    const notJson = await restCall(server.url, { method: 'POST', path: '/2015-03-31/functions', body: '{oops', credentials: ADMIN });
    assertLambdaError(notJson, 400, 'SerializationException');

    const big = Buffer.alloc(17 * 1024 * 1024, 0x61);
    const response = await fetch(new URL('/2015-03-31/functions', server.url), { method: 'POST', body: big, headers: { 'content-type': 'application/json' } });
    const text = await response.text();
    assert.equal(response.status, 413);
    assert.equal(response.headers.get('x-amzn-errortype'), 'RequestEntityTooLargeException');
    assert.equal((JSON.parse(text) as { Type: string }).Type, 'User');
  });

  it('the JSON 1.1 services are untouched: X-Amz-Target still routes, whatever the path', async () => {
    const response = await rawCall(server.url, { target: 'TrentService.ListKeys', credentials: ADMIN, service: 'kms' });
    assert.equal(response.status, 200);
    assert.ok(Array.isArray(response.json?.Keys));
  });
});
