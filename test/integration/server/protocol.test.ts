import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { CreateKeyCommand, ListKeysCommand } from '@aws-sdk/client-kms';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';
import { rawCall, type RawCallOptions } from '../../helpers/signed-fetch.js';

/**
 * The AWS JSON 1.1 edge, byte by byte: what a malformed, mistyped or oversized request gets back.
 * https://docs.aws.amazon.com/kms/latest/APIReference/CommonErrors.html
 */
describe('AWS JSON 1.1 protocol edge', () => {
  let server: TestServer;
  let keyId: string;
  const call = (options: RawCallOptions) => rawCall(server.url, { credentials: server.admin, ...options });

  before(async () => {
    server = await startTestServer();
    const created = await server.kms().send(new CreateKeyCommand({ Description: 'protocol tests' }));
    keyId = created.KeyMetadata!.KeyId!;
  });
  after(async () => server.cleanup());

  function assertAwsError(response: Awaited<ReturnType<typeof rawCall>>, status: number, code: string): string {
    assert.equal(response.status, status, response.text);
    assert.equal(response.json?.__type, code, response.text);
    assert.equal(response.headers.get('content-type'), 'application/x-amz-json-1.1');
    assert.match(response.headers.get('x-amzn-requestid') ?? '', /^[0-9a-f-]{36}$/);
    return String(response.json?.message ?? '');
  }

  describe('bodies that are not a JSON object', () => {
    for (const [name, body] of [
      ['truncated JSON', '{"KeyId": "abc"'],
      ['not JSON at all', 'KeyId=abc'],
      ['a JSON array', '[]'],
      ['a JSON string', '"ListKeys"'],
      ['JSON null', 'null'],
      ['invalid UTF-8 in a string', Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d])],
    ] as const) {
      it(`a validly signed request with ${name} → 400 SerializationException`, async () => {
        const response = await call({ target: 'TrentService.ListKeys', body });
        if (name === 'invalid UTF-8 in a string') {
          // Decoded with replacement characters it is still a JSON object; what matters is no 500.
          assert.ok(response.status < 500, response.text);
          return;
        }
        assertAwsError(response, 400, 'SerializationException');
      });
    }

    it('deeply nested JSON within the size limit is refused without a server error', async () => {
      const depth = 200_000;
      for (const body of ['{"Limit":' + '['.repeat(depth) + ']'.repeat(depth) + '}', '['.repeat(depth)]) {
        const response = await call({ target: 'TrentService.ListKeys', body });
        assert.ok(response.status >= 400 && response.status < 500, `${response.status} ${response.text.slice(0, 200)}`);
      }
      assert.equal((await call({ target: 'TrentService.ListKeys' })).status, 200);
    });

    it('an empty body is an empty input, as the SDKs send it for operations without members', async () => {
      const response = await call({ target: 'TrentService.ListKeys', body: '' });
      assert.equal(response.status, 200, response.text);
      assert.ok(Array.isArray(response.json?.Keys));
    });
  });

  describe('X-Amz-Target', () => {
    for (const target of ['TrentService.Nope', 'Foo.Bar', 'secretsmanager.Nope', 'TrentService', 'TrentService.', '.ListKeys', 'trentservice.ListKeys']) {
      it(`${JSON.stringify(target)} → UnknownOperationException`, async () => {
        assertAwsError(await call({ target }), 400, 'UnknownOperationException');
      });
    }

    for (const target of ['TrentService.__proto__', 'TrentService.constructor', 'TrentService.toString', 'TrentService.hasOwnProperty']) {
      it(`an inherited property name ${target} is not an operation`, async () => {
        assertAwsError(await call({ target }), 400, 'UnknownOperationException');
      });
    }

    it('no X-Amz-Target at all → UnknownOperationException', async () => {
      assertAwsError(await call({}), 400, 'UnknownOperationException');
    });
  });

  describe('schema validation', () => {
    it("Encrypt without KeyId → AWS's exact ValidationException text naming 'keyId'", async () => {
      const response = await call({ target: 'TrentService.Encrypt', body: JSON.stringify({ Plaintext: Buffer.from('hi').toString('base64') }) });
      const message = assertAwsError(response, 400, 'ValidationException');
      assert.equal(message, "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null");
    });

    it('several problems are counted and listed, separated by "; "', async () => {
      const response = await call({ target: 'TrentService.CreateAlias', body: '{}' });
      const message = assertAwsError(response, 400, 'ValidationException');
      assert.match(message, /^2 validation errors detected: /);
      assert.ok(message.includes("Value null at 'aliasName' failed to satisfy constraint: Member must not be null"), message);
      assert.ok(message.includes("Value null at 'targetKeyId' failed to satisfy constraint: Member must not be null"), message);
      assert.equal(message.split('; ').length, 2, message);
    });

    it("a wrongly typed member (Limit: \"ten\") → ValidationException naming 'limit'", async () => {
      const response = await call({ target: 'TrentService.ListKeys', body: JSON.stringify({ Limit: 'ten' }) });
      const message = assertAwsError(response, 400, 'ValidationException');
      assert.match(message, /^1 validation error detected: Value 'ten' at 'limit' failed to satisfy constraint: /);
    });

    it('a number out of range names the member and the bound', async () => {
      const response = await call({ target: 'TrentService.ListKeys', body: JSON.stringify({ Limit: 1001 }) });
      const message = assertAwsError(response, 400, 'ValidationException');
      assert.ok(message.includes("Value '1001' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 1000"), message);
    });

    it('an enum value outside its set → ValidationException listing the set', async () => {
      const response = await call({ target: 'TrentService.CreateKey', body: JSON.stringify({ KeyUsage: 'ENCRYPT_EVERYTHING' }) });
      const message = assertAwsError(response, 400, 'ValidationException');
      assert.ok(message.includes("Value 'ENCRYPT_EVERYTHING' at 'keyUsage' failed to satisfy constraint: Member must satisfy enum value set: ["), message);
      assert.ok(message.includes('ENCRYPT_DECRYPT'), message);
    });

    it('a plaintext over 4096 bytes → ValidationException on plaintext', async () => {
      const body = JSON.stringify({ KeyId: keyId, Plaintext: Buffer.alloc(4097, 1).toString('base64') });
      const message = assertAwsError(await call({ target: 'TrentService.Encrypt', body }), 400, 'ValidationException');
      assert.ok(message.includes("Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to 4096"), message);
    });

    it('a bad value inside a map is reported on the map member, without the (caller-chosen) map key', async () => {
      const body = JSON.stringify({ KeyId: keyId, Plaintext: 'aGk=', EncryptionContext: { CustomerRef: 42 } });
      const message = assertAwsError(await call({ target: 'TrentService.Encrypt', body }), 400, 'ValidationException');
      assert.equal(
        message,
        "1 validation error detected: Value at 'encryptionContext' failed to satisfy constraint: Map value must satisfy constraint: [Member must be a string]",
      );
      assert.ok(!message.includes('ustomerRef'), message);
    });

    it('a CiphertextBlob that is not strict base64 → ValidationException on ciphertextBlob, also where a lenient decoder would read it', async () => {
      const valid = Buffer.alloc(120, 7).toString('base64');
      // Node's Buffer.from(…, 'base64') takes base64url, skips whitespace and reads 'Ł' as 'A': each must be refused.
      for (const blob of [`${valid.slice(0, 40)}-${valid.slice(41)}`, `${valid.slice(0, 40)} ${valid.slice(41)}`, `${valid.slice(0, 40)}\u0141${valid.slice(41)}`, `${valid}A`, `A=${valid.slice(2)}`]) {
        const message = assertAwsError(await call({ target: 'TrentService.Decrypt', body: JSON.stringify({ CiphertextBlob: blob }) }), 400, 'ValidationException');
        assert.equal(message, "1 validation error detected: Value at 'ciphertextBlob' failed to satisfy constraint: Member must be valid base64", JSON.stringify(blob));
      }
    });

    it('members of nested lists are written as AWS writes them (tags.1.member.tagKey)', async () => {
      const body = JSON.stringify({ Tags: [{ TagValue: 'v' }] });
      const message = assertAwsError(await call({ target: 'TrentService.CreateKey', body }), 400, 'ValidationException');
      assert.ok(message.includes("Value null at 'tags.1.member.tagKey'"), message);
    });
  });

  describe('a secret sent in the wrong place never comes back', () => {
    const SECRET = 'hunter2-TOP-SECRET-db-password';
    const secretB64 = Buffer.from(SECRET).toString('base64');
    // Sensitive members (Plaintext), blobs, maps and whole bodies never show a value.
    const cases: Array<[string, string, unknown]> = [
      ['Plaintext as an object', 'TrentService.Encrypt', { KeyId: 'k', Plaintext: { value: SECRET } }],
      ['Plaintext as raw text (not base64)', 'TrentService.Encrypt', { KeyId: 'k', Plaintext: `${SECRET}!` }],
      ['Plaintext as a string that is not base64, among other errors', 'TrentService.Encrypt', { KeyId: '', Plaintext: SECRET }],
      ['a secret as an encryption context value', 'TrentService.Encrypt', { KeyId: 'k', Plaintext: secretB64, EncryptionContext: { a: [SECRET] } }],
      ['a secret as an encryption context key with a bad value', 'TrentService.Encrypt', { KeyId: 'k', Plaintext: secretB64, EncryptionContext: { [SECRET]: 1 } }],
      ['a secret as a whole JSON list', 'TrentService.Encrypt', [SECRET]],
    ];
    for (const [name, target, input] of cases) {
      it(name, async () => {
        const response = await call({ target, body: JSON.stringify(input) });
        assert.ok(response.status >= 400 && response.status < 500, response.text);
        assert.ok(!response.text.includes(SECRET), `error body echoes the secret: ${response.text}`);
        assert.ok(!response.text.includes(secretB64), `error body echoes the secret: ${response.text}`);
      });
    }

    // A member that is not sensitive shows the offending value, as AWS does ("Value '…' at '…'").
    const shown: Array<[string, string, unknown, string]> = [
      ['a value as Limit', 'TrentService.ListKeys', { Limit: SECRET }, `Value '${SECRET}' at 'limit'`],
      ['a value as an enum value', 'TrentService.CreateKey', { KeyUsage: SECRET }, `Value '${SECRET}' at 'keyUsage'`],
      ['a value in an alias name that breaks its pattern', 'TrentService.CreateAlias', { AliasName: `alias/${SECRET} !`, TargetKeyId: 'k' }, `Value 'alias/${SECRET} !' at 'aliasName'`],
      ['a value as a boolean', 'TrentService.Encrypt', { KeyId: 'k', Plaintext: secretB64, DryRun: SECRET }, `Value '${SECRET}' at 'dryRun'`],
    ];
    for (const [name, target, input, expected] of shown) {
      it(`${name} is named, as AWS names it`, async () => {
        const message = assertAwsError(await call({ target, body: JSON.stringify(input) }), 400, 'ValidationException');
        assert.ok(message.startsWith(`1 validation error detected: ${expected} failed to satisfy constraint: `), message);
      });
    }
  });

  describe('body size', () => {
    const ONE_MIB = 1024 * 1024;

    it('a body of exactly 1 MiB is read and handled', async () => {
      const body = '{}' + ' '.repeat(ONE_MIB - 2);
      const response = await call({ target: 'TrentService.ListKeys', body });
      assert.equal(response.status, 200, response.text.slice(0, 200));
    });

    it('a body over 1 MiB (declared by Content-Length) → 413, and the server answers the next request', async () => {
      const body = JSON.stringify({ Description: 'x'.repeat(2 * ONE_MIB) });
      const response = await call({ target: 'TrentService.CreateKey', body });
      assertAwsError(response, 413, 'RequestEntityTooLargeException');
      const next = await server.kms().send(new ListKeysCommand({}));
      assert.ok(next.Keys!.length >= 1);
    });

    it('a much larger body (32 MiB) still gets its 413 rather than a reset connection', async () => {
      const response = await rawCall(server.url, { target: 'TrentService.ListKeys', body: Buffer.alloc(32 * ONE_MIB, 0x20) });
      assertAwsError(response, 413, 'RequestEntityTooLargeException');
    });

    it('a chunked body without Content-Length is cut off at 1 MiB too', async () => {
      let sent = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent >= 3 * ONE_MIB) return controller.close();
          sent += 256 * 1024;
          controller.enqueue(new Uint8Array(256 * 1024).fill(0x20));
        },
      });
      const response = await fetch(server.url, {
        method: 'POST',
        headers: { 'x-amz-target': 'TrentService.ListKeys', 'content-type': 'application/x-amz-json-1.1' },
        body: stream,
        duplex: 'half',
      } as RequestInit);
      assert.equal(response.status, 413);
      assert.equal(((await response.json()) as { __type: string }).__type, 'RequestEntityTooLargeException');
      assert.equal((await fetch(new URL('/health', server.url))).status, 200);
    });

    it('a client that disconnects halfway through its body does not disturb the server', async () => {
      const { port } = new URL(server.url);
      await new Promise<void>((resolve, reject) => {
        const socket = connect(Number(port), '127.0.0.1', () => {
          socket.write(
            'POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-amz-json-1.1\r\n' +
              'X-Amz-Target: TrentService.ListKeys\r\nContent-Length: 1000\r\n\r\n{"Lim',
            () => socket.destroy(),
          );
        });
        socket.on('close', () => resolve());
        socket.on('error', reject);
      });
      const next = await server.kms().send(new ListKeysCommand({}));
      assert.ok(Array.isArray(next.Keys));
    });
  });

  describe('response envelope', () => {
    it('a success carries application/x-amz-json-1.1 and a fresh x-amzn-RequestId', async () => {
      const first = await call({ target: 'TrentService.ListKeys' });
      const second = await call({ target: 'TrentService.ListKeys' });
      assert.equal(first.status, 200);
      assert.equal(first.headers.get('content-type'), 'application/x-amz-json-1.1');
      const ids = [first, second].map((response) => response.headers.get('x-amzn-requestid'));
      assert.match(ids[0] ?? '', /^[0-9a-f-]{36}$/);
      assert.notEqual(ids[0], ids[1]);
    });

    it('the SDK sees the same request id in $metadata', async () => {
      const output = await server.kms().send(new ListKeysCommand({}));
      assert.match(output.$metadata.requestId ?? '', /^[0-9a-f-]{36}$/);
    });

    it('GET /health → 200 without a signature', async () => {
      const response = await fetch(new URL('/health', server.url));
      assert.equal(response.status, 200);
      assert.deepEqual(await response.json(), { status: 'ok' });
    });
  });
});
