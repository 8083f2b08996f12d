import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { CreateFunctionCommand, InvokeCommand } from '@aws-sdk/client-lambda';
import { rejectsWith } from '../../helpers/kms.js';
import { buildZip, createTestFunctionRole, lambdaClient, ROLE } from '../../helpers/lambda.js';
import { rawCall } from '../../helpers/signed-fetch.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

/** A raw HTTP response as it came off the socket. */
type RawHttp = { status: number; headers: Record<string, string>; body: string; text: string };

function parseHttp(text: string): RawHttp {
  const [head = '', body = ''] = text.split('\r\n\r\n', 2);
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body, text };
}

/** Connects to the server; `writes` go out in order, `pauseMs` apart; resolves with all it read when the server closed. */
function exchange(url: string, writes: string[], pauseMs = 0, giveUpMs = 10_000): Promise<{ text: string; closedBy: 'server' | 'timeout' }> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    let text = '';
    const socket: Socket = connect(Number(port), '127.0.0.1', async () => {
      for (const chunk of writes) {
        if (socket.destroyed) return;
        socket.write(chunk);
        if (pauseMs) await new Promise((wait) => setTimeout(wait, pauseMs));
      }
    });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text, closedBy: 'timeout' });
    }, giveUpMs);
    socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closedBy: 'server' });
    });
    socket.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' ? undefined : reject(error)));
  });
}

function assertAwsJsonError(response: RawHttp, status: number, code: string): string {
  assert.equal(response.status, status, response.text);
  assert.equal(response.headers['content-type'], 'application/x-amz-json-1.1', response.text);
  assert.equal(response.headers['x-amzn-errortype'], code);
  assert.match(response.headers['x-amzn-requestid'] ?? '', /^[0-9a-f-]{36}$/);
  assert.equal(response.headers.connection, 'close');
  const body = JSON.parse(response.body) as { __type: string; message: string };
  assert.equal(body.__type, code);
  return body.message;
}

const REQUEST_HEAD = 'POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Target: TrentService.ListKeys\r\n';

describe('the edges a hostile client reaches', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({ limits: { headersTimeoutMs: 400, requestTimeoutMs: 800, keepAliveTimeoutMs: 300 } });
    await createTestFunctionRole(server);
  });
  after(async () => server.cleanup());

  describe('what error messages repeat', () => {
    it('an unknown X-Amz-Target is named cut to 64 plain characters', async () => {
      const marker = `marker${randomBytes(8).toString('hex')}`;
      const target = `TrentService.${'A'.repeat(4000)}${marker}`;
      const response = await rawCall(server.url, { credentials: server.admin, target });
      assert.equal(response.status, 400, response.text);
      const message = String(response.json?.message);
      assert.equal(response.json?.__type, 'UnknownOperationException');
      assert.ok(!message.includes(marker), message);
      assert.ok(message.length < 200, `${message.length} characters`);
      const odd = await rawCall(server.url, { credentials: server.admin, target: 'TrentService.<script>"alert"</script>' });
      assert.match(String(odd.json?.message), /^The operation TrentService\.\?script\?\?alert\?\?\/script\? is not known\.$/);
    });

    it("Lambda Invoke's unparsable payload is not quoted back", async () => {
      const lambda = lambdaClient(server);
      const name = `echo-${randomBytes(4).toString('hex')}`;
      await lambda.send(
        new CreateFunctionCommand({ FunctionName: name, Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { ZipFile: buildZip({ 'index.mjs': 'export const handler = async () => 1;\n' }) } }),
      );
      // Short enough for JSON.parse's message to quote in full.
      const secret = `pw${randomBytes(4).toString('hex')}`;
      try {
        const error = await rejectsWith(lambda.send(new InvokeCommand({ FunctionName: name, Payload: Buffer.from(`[${secret}]`) })), 'InvalidRequestContentException');
        assert.ok(!error.message.includes(secret), error.message);
      } finally {
        lambda.destroy();
      }
    });
  });

  describe('requests the HTTP parser refuses get AWS-shaped JSON', () => {
    it('a header value with a control character → 400 BadRequestException', async () => {
      const { text } = await exchange(server.url, [`${REQUEST_HEAD}X-Bad: a\x01b\r\nContent-Length: 2\r\n\r\n{}`]);
      const message = assertAwsJsonError(parseHttp(text), 400, 'BadRequestException');
      assert.ok(!message.includes('X-Bad'), message);
    });

    it('a header name with a space → 400 BadRequestException', async () => {
      const { text } = await exchange(server.url, [`${REQUEST_HEAD}Bad Header: 1\r\nContent-Length: 2\r\n\r\n{}`]);
      assertAwsJsonError(parseHttp(text), 400, 'BadRequestException');
    });

    it('Content-Length together with Transfer-Encoding → 400 BadRequestException', async () => {
      const { text } = await exchange(server.url, [`${REQUEST_HEAD}Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n`]);
      assertAwsJsonError(parseHttp(text), 400, 'BadRequestException');
    });

    it('headers over the limit → 431, without repeating them', async () => {
      const marker = `marker${randomBytes(8).toString('hex')}`;
      const { text } = await exchange(server.url, [`${REQUEST_HEAD}X-Big: ${marker}${'b'.repeat(32 * 1024)}\r\nContent-Length: 2\r\n\r\n{}`]);
      assertAwsJsonError(parseHttp(text), 431, 'RequestHeaderFieldsTooLarge');
      assert.ok(!text.includes(marker));
    });
  });

  describe('limits', () => {
    it('a body that stops coming is answered 408 and its socket closed at the request timeout, not held for minutes', async () => {
      const { text, closedBy } = await exchange(server.url, [`${REQUEST_HEAD}Content-Length: 100\r\n\r\n{"Li`]);
      assert.equal(closedBy, 'server');
      assertAwsJsonError(parseHttp(text), 408, 'RequestTimeoutException');
    });

    it('headers that stop coming are answered 408 at the headers timeout', async () => {
      const { text, closedBy } = await exchange(server.url, ['POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1\r\n']);
      assert.equal(closedBy, 'server');
      assertAwsJsonError(parseHttp(text), 408, 'RequestTimeoutException');
    });

    it('an idle keep-alive connection is closed after the keep-alive timeout', async () => {
      const { text, closedBy } = await exchange(server.url, ['GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n']);
      assert.equal(closedBy, 'server');
      assert.equal(parseHttp(text).status, 200);
    });
  });

  describe('--max-body-memory', () => {
    let tight: TestServer;
    before(async () => {
      tight = await startTestServer({ limits: { maxBodyMemoryBytes: 1_500_000 } });
    });
    after(async () => tight.cleanup());

    it('a body that would go over it is refused with ThrottlingException while others are held; served again once they go', async () => {
      const { port } = new URL(tight.url);
      // A client that sends most of a 1 MB body and then stalls holds that memory until the request timeout.
      const stalled = connect(Number(port), '127.0.0.1');
      stalled.on('error', () => {});
      await new Promise((resolve) => stalled.once('connect', resolve));
      stalled.write(`${REQUEST_HEAD}Content-Length: 1000000\r\n\r\n{"Limit":10${' '.repeat(900_000)}`);
      try {
        await new Promise((resolve) => setTimeout(resolve, 200));
        const body = `{}${' '.repeat(800_000)}`;
        const refused = await rawCall(tight.url, { credentials: tight.admin, target: 'TrentService.ListKeys', body });
        assert.equal(refused.status, 400, refused.text);
        assert.equal(refused.json?.__type, 'ThrottlingException');
      } finally {
        stalled.destroy();
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
      const served = await rawCall(tight.url, { credentials: tight.admin, target: 'TrentService.ListKeys', body: `{}${' '.repeat(800_000)}` });
      assert.equal(served.status, 200, served.text.slice(0, 200));
    });
  });

  describe('--max-connections', () => {
    let crowded: TestServer;
    before(async () => {
      crowded = await startTestServer({ limits: { maxConnections: 4 } });
    });
    after(async () => crowded.cleanup());

    it('connections beyond it are closed when accepted; the server serves again once they go', async () => {
      const { port } = new URL(crowded.url);
      const held: Socket[] = [];
      try {
        // Connections that send nothing: the default timeouts leave them open for the whole test.
        for (let i = 0; i < 4; i++) {
          const socket = connect(Number(port), '127.0.0.1');
          socket.on('error', () => {});
          await new Promise((resolve) => socket.once('connect', resolve));
          held.push(socket);
        }
        const refused = await exchange(crowded.url, ['GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'], 0, 3_000);
        assert.equal(refused.closedBy, 'server');
        assert.equal(refused.text, '', 'the extra connection is closed without an answer');
      } finally {
        for (const socket of held) socket.destroy();
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal((await fetch(new URL('/health', crowded.url))).status, 200);
    });
  });
});
