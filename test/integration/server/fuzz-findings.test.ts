import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { rawCall } from '../../helpers/signed-fetch.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

/**
 * What the hostile-input fuzzer (test/reliability/fuzz, docs/reliability.md, "Hostile input") found, each kept as the smallest
 * request that showed it: a 5xx or an answer not shaped like AWS's.
 */
describe('requests the fuzzer found mishandled', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => server.cleanup());

  it('a 1 MiB list of wrong items is refused before the schema check describes each one (memory ~30x the body)', async () => {
    const items = Array.from({ length: 300_000 }, () => '0').join(',');
    const response = await rawCall(server.url, { credentials: server.admin, service: 'secretsmanager', target: 'secretsmanager.BatchGetSecretValue', body: `{"SecretIdList":[${items}]}` });
    assert.equal(response.status, 400, response.text);
    assert.deepEqual(response.json, { __type: 'SerializationException', message: 'The request holds more than 10000 values (list items and members).' });
    const fewer = await rawCall(server.url, { credentials: server.admin, service: 'secretsmanager', target: 'secretsmanager.BatchGetSecretValue', body: '{"SecretIdList":[0,0]}' });
    assert.equal(fewer.json?.__type, 'ValidationException');
  });

  const query = (body: string) =>
    rawCall(server.url, { credentials: server.admin, service: 'iam', body, headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' } });

  it('a Query member name nested thousands deep is MalformedInput (400, XML), not a stack overflow (500)', async () => {
    const response = await query(`Action=GetUser&Version=2010-05-08&UserName${'.member.1'.repeat(20_000)}=x`);
    assert.equal(response.status, 400, response.text);
    assert.equal(response.headers.get('content-type'), 'text/xml');
    assert.match(response.text, /^<ErrorResponse><Error><Type>Sender<\/Type><Code>MalformedInput<\/Code><Message>A member name is nested more than 32 levels deep\.<\/Message>/);
  });

  it('a Query body over the size limit is refused in the Query XML shape, as IAM clients read it', async () => {
    const response = await query(`Action=GetUser&Version=2010-05-08&UserName=${'a'.repeat(1024 * 1024 + 1)}`);
    assert.equal(response.status, 413, response.text);
    assert.equal(response.headers.get('content-type'), 'text/xml');
    assert.match(response.text, /^<ErrorResponse><Error><Type>Sender<\/Type><Code>RequestEntityTooLargeException<\/Code><Message>The request body exceeds 1048576 bytes\.<\/Message><\/Error><RequestId>[0-9a-f-]{36}<\/RequestId><\/ErrorResponse>$/);
  });
  it('a client still sending a 1 MiB header line gets its 431, not a reset (lingering close), every time', async () => {
    const port = Number(new URL(server.url).port);
    const request = Buffer.from(`POST / HTTP/1.1\r\nhost: 127.0.0.1\r\nx-big: ${'b'.repeat(1024 * 1024)}\r\ncontent-length: 2\r\n\r\n{}`);
    for (let attempt = 0; attempt < 20; attempt++) {
      const answer = await new Promise<string>((resolve) => {
        const received: Buffer[] = [];
        // The client reads nothing until its whole request is written and a moment has passed: by then a server that
        // closed at once has reset the connection with the client's bytes unread.
        const socket = connect(port, '127.0.0.1', () => {
          socket.pause();
          socket.write(request, () => setTimeout(() => socket.resume(), 100));
        });
        socket.on('data', (chunk: Buffer) => received.push(chunk));
        socket.on('error', () => {}); // the reset, if any: what arrived before it is what counts
        socket.on('close', () => resolve(Buffer.concat(received).toString('utf8')));
      });
      assert.match(answer, /^HTTP\/1\.1 431 /, `attempt ${attempt + 1}: ${JSON.stringify(answer.slice(0, 80))}`);
    }
  });
  it('GetParameters with only a malformed name lists it as invalid after an authorization check, not a 500', async () => {
    const response = await rawCall(server.url, { credentials: server.admin, service: 'ssm', target: 'AmazonSSM.GetParameters', body: '{"Names":["=us:"]}' });
    assert.equal(response.status, 200, response.text);
    assert.deepEqual(response.json, { Parameters: [], InvalidParameters: ['=us:'] });
  });
});
