import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { commonError, type Logger } from '../core/index.js';
import { JSON11_CONTENT_TYPE, renderError } from '../protocol/index.js';
import type { Pipeline } from './pipeline.js';

/** Bodies above 1 MiB are refused before they are read in full. */
export const MAX_BODY_BYTES = 1024 * 1024;
const SHUTDOWN_GRACE_MS = 10_000;

export type HttpServer = { url: string; port: number; close(): Promise<void> };

/**
 * The HTTP edge: `GET /health`, and every other request through the pipeline. close() stops accepting,
 * lets in-flight requests finish, and then resolves.
 */
export async function listen(pipeline: Pipeline, options: { host: string; port: number; logger: Logger }): Promise<HttpServer> {
  let inFlight = 0;
  let drained: (() => void) | undefined;

  const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    inFlight += 1;
    handle(pipeline, req, res, options.logger).finally(() => {
      inFlight -= 1;
      if (inFlight === 0) drained?.();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = options.host.includes(':') ? `[${options.host}]` : options.host;

  async function close(): Promise<void> {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    if (inFlight > 0) await new Promise<void>((resolve) => (drained = resolve));
    server.closeIdleConnections();
    const forced = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
    await closed;
    clearTimeout(forced);
  }

  return { url: `http://${urlHost}:${port}`, port, close };
}

async function handle(pipeline: Pipeline, req: IncomingMessage, res: ServerResponse, logger: Logger): Promise<void> {
  try {
    const [path = '/', query = ''] = (req.url ?? '/').split('?', 2) as [string?, string?];
    if (req.method === 'GET' && path === '/health') {
      return send(res, 200, { 'content-type': 'application/json' }, '{"status":"ok"}');
    }
    const body = await readBody(req);
    if (body === undefined) {
      const rendered = renderError(commonError('RequestEntityTooLargeException', `The request body exceeds ${MAX_BODY_BYTES} bytes.`), 'InternalFailure', '');
      res.setHeader('connection', 'close');
      return send(res, rendered.status, { 'content-type': JSON11_CONTENT_TYPE }, rendered.body);
    }
    const response = await pipeline({ method: req.method ?? 'GET', path, query, headers: req.headers, body, sourceIp: req.socket.remoteAddress });
    send(res, response.status, response.headers, response.body);
  } catch (error) {
    logger.error('unexpected failure at the HTTP edge', { error: error instanceof Error ? error.stack : String(error) });
    if (!res.headersSent) send(res, 500, { 'content-type': JSON11_CONTENT_TYPE }, '{"__type":"InternalFailure","message":"An internal error occurred."}');
  }
}

function send(res: ServerResponse, status: number, headers: Record<string, string>, body: string): void {
  res.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** Resolves undefined when the body is larger than MAX_BODY_BYTES. */
function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) {
    req.resume();
    return Promise.resolve(undefined);
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? undefined : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
