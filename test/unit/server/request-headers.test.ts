import assert from 'node:assert/strict';
import { createServer, IncomingMessage, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { EdgeRequest, headersFromRaw, headersWithRepeats } from '../../../src/server/request-headers.js';

/** `req.headers` as node:http itself makes it from the same raw list (its own _addHeaderLine, duplicates dropped). */
function nodeHeaders(raw: readonly string[]): Record<string, unknown> {
  const addHeaderLine = (IncomingMessage.prototype as unknown as { _addHeaderLine(name: string, value: string, dest: object): void })._addHeaderLine;
  const dest = {};
  for (let index = 0; index < raw.length; index += 2) addHeaderLine.call({ joinDuplicateHeaders: false }, raw[index]!, raw[index + 1]!, dest);
  return dest;
}

/** Every name node:http knows by name (lib/_http_incoming.js matchKnownFields), and some it does not. */
const NAMES = [
  'Age', 'Host', 'From', 'ETag', 'Date', 'Vary', 'Server', 'Cookie', 'Origin', 'Expect', 'Accept', 'Referer', 'Expires',
  'Upgrade', 'Location', 'If-Match', 'User-Agent', 'Set-Cookie', 'Connection', 'Retry-After', 'Content-Type',
  'Max-Forwards', 'Authorization', 'Last-Modified', 'Cache-Control', 'If-None-Match', 'Content-Length',
  'Accept-Encoding', 'Accept-Language', 'X-Forwarded-For', 'Content-Encoding', 'X-Forwarded-Host',
  'If-Modified-Since', 'Transfer-Encoding', 'X-Forwarded-Proto', 'Proxy-Authorization', 'If-Unmodified-Since',
  'X-Amz-Target', 'X-Amz-Date', 'amz-sdk-invocation-id', 'Keep-Alive', 'X-Custom', '__proto__', 'constructor', 'toString',
];

function spellings(name: string): string[] {
  return [name, name.toLowerCase(), name.toUpperCase()];
}

describe('headersFromRaw', () => {
  it('makes what node:http makes of each name once, in each spelling', () => {
    for (const name of NAMES) {
      for (const spelled of spellings(name)) {
        const raw = [spelled, ' one value ', 'X-Other', 'b'];
        assert.deepEqual(headersFromRaw(raw), nodeHeaders(raw), spelled);
      }
    }
  });

  it('makes what node:http makes of each name repeated: joined, dropped, a list, in any spelling', () => {
    for (const name of NAMES) {
      const [first, lower, upper] = spellings(name);
      const raw = [first!, 'v1', 'X-Between', 'x', lower!, 'v2,  v3', upper!, '', first!, 'v4'];
      const ours = headersFromRaw(raw);
      assert.deepEqual(ours, nodeHeaders(raw), name);
      assert.deepEqual(Object.keys(ours), Object.keys(nodeHeaders(raw)), `${name}: the same order`);
      assert.equal(Object.getPrototypeOf(ours), Object.prototype, `${name}: a plain object`);
    }
  });

  it('a request as an SDK sends it: every name once, lower-cased, in order', () => {
    const raw = [
      'Host', '127.0.0.1:4566', 'Content-Type', 'application/x-amz-json-1.1', 'X-Amz-Target', 'secretsmanager.GetSecretValue',
      'X-Amz-Date', '20261206T151500Z', 'Authorization', 'AWS4-HMAC-SHA256 Credential=AKID/20261206/us-east-1/secretsmanager/aws4_request',
      'Content-Length', '44', 'Connection', 'keep-alive',
    ];
    assert.deepEqual(headersFromRaw(raw), nodeHeaders(raw));
  });
});

describe('EdgeRequest as a server\'s request class', () => {
  it('gives the handler the headers node:http would, repeated ones included', async () => {
    let seen: { headers: unknown; raw: string[]; isEdge: boolean } | undefined;
    const server = createServer({ IncomingMessage: EdgeRequest }, (req, res) => {
      seen = { headers: { ...req.headers }, raw: req.rawHeaders, isEdge: req instanceof EdgeRequest };
      res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      await new Promise<void>((resolve, reject) => {
        const sent = request({ port, host: '127.0.0.1', method: 'POST', path: '/', headers: { 'X-Amz-Target': 'a', 'my-header': ['v1', 'v2'], cookie: ['a=1', 'b=2'], 'User-Agent': 'ua' } }, (res) => {
          res.resume();
          res.on('end', resolve);
        });
        sent.on('error', reject);
        sent.end('{}');
      });
      assert.ok(seen);
      assert.equal(seen.isEdge, true);
      assert.deepEqual(seen.headers, nodeHeaders(seen.raw));
      assert.equal((seen.headers as Record<string, string>)['my-header'], 'v1, v2');
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('headersWithRepeats', () => {
  it('is the headers object itself when no name repeats', () => {
    const raw = ['Host', 'h', 'X-Amz-Date', 'd', 'Authorization', 'a'];
    const headers = headersFromRaw(raw);
    assert.equal(headersWithRepeats(headers, raw), headers);
  });

  it('lists every value of a repeated name in the order sent, whatever node made of it, and leaves the rest', () => {
    const raw = ['My-Header1', 'value2', 'Host', 'h', 'my-header1', 'value2', 'User-Agent', 'one', 'MY-HEADER1', 'value1', 'user-agent', 'two'];
    const headers = headersFromRaw(raw);
    const withRepeats = headersWithRepeats(headers, raw);
    const expected = Object.assign(Object.create(null) as object, { 'my-header1': ['value2', 'value2', 'value1'], host: 'h', 'user-agent': ['one', 'two'] });
    assert.deepEqual(withRepeats, expected);
    assert.equal(headers['user-agent'], 'one', "node's object is left as node makes it");
  });

  it('keeps a repeated __proto__ as a name, never as the prototype of the headers', () => {
    const raw = ['Host', 'h', '__proto__', 'a', '__proto__', 'b'];
    const withRepeats = headersWithRepeats(headersFromRaw(raw), raw);
    assert.equal(Object.getPrototypeOf(withRepeats), null);
    assert.deepEqual(Object.entries(withRepeats), [['host', 'h'], ['__proto__', ['a', 'b']]]);
  });
});
