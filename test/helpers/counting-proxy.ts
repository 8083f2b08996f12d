import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the proxy passed on: its X-Amz-Target operation and, for Secrets Manager, the SecretId asked for. */
export type ProxiedCall = { operation: string; secretId: string | undefined };

export type CountingProxy = {
  url: string;
  calls: ProxiedCall[];
  /** GetSecretValue calls for this SecretId (all of them without one). */
  getSecretValueCount(secretId?: string): number;
  /** Sends requests to another server from now on (a restarted server has a new port). */
  setTarget(url: string): void;
  /** While down, every connection is cut at once, as a server that is gone (the caller sees a socket error). */
  setDown(down: boolean): void;
  close(): Promise<void>;
};

/**
 * A plain HTTP proxy in front of a real Coffer server that counts the calls going through it, so a test can
 * say how many GetSecretValue calls reached the server. The Host header is passed on unchanged, so SigV4
 * signatures made for the proxy's address still verify at the server.
 */
export async function startCountingProxy(targetUrl: string): Promise<CountingProxy> {
  let target = new URL(targetUrl);
  let down = false;
  const calls: ProxiedCall[] = [];
  const server: Server = createServer((incoming, outgoing) => {
    if (down) {
      incoming.socket.destroy();
      return;
    }
    void readBody(incoming).then((body) => {
      calls.push(describe(incoming, body));
      const forwarded = httpRequest(
        { host: target.hostname, port: target.port, method: incoming.method, path: incoming.url, headers: incoming.headers },
        (answer) => {
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(outgoing);
        },
      );
      // The server is gone (stopped, restarting): cut the caller's connection as the server's absence would.
      forwarded.on('error', () => incoming.socket.destroy());
      forwarded.end(body);
    });
  });
  // A cut connection is the point of setDown; nothing to report.
  server.on('clientError', (_error, socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    getSecretValueCount: (secretId) =>
      calls.filter((call) => call.operation === 'secretsmanager.GetSecretValue' && (secretId === undefined || call.secretId === secretId)).length,
    setTarget(url) {
      target = new URL(url);
    },
    setDown(value) {
      down = value;
      if (down) server.closeAllConnections();
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function describe(incoming: IncomingMessage, body: Buffer): ProxiedCall {
  const operation = String(incoming.headers['x-amz-target'] ?? '');
  let secretId: string | undefined;
  if (operation.startsWith('secretsmanager.')) {
    try {
      secretId = (JSON.parse(body.toString('utf8')) as { SecretId?: string }).SecretId;
    } catch {
      secretId = undefined;
    }
  }
  return { operation, secretId };
}

async function readBody(incoming: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of incoming) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
