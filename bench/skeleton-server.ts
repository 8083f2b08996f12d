/**
 * The skeleton peer (skeleton.ts: only the work no call may drop, with the build's own code) behind a node:http
 * server on the bench's port contract: GET answers 200 (the bench's readiness probe), every POST is a call.
 * Run as `node skeleton-server.js PORT DIST DATA_DIR [WITHOUT]` (bench/peers.ts startSkeleton): DIST is the build's
 * dist/ (the bench's snapshot), DATA_DIR where coffer.db (left empty) and audit.db go, WITHOUT a comma-separated
 * list of parts left out (skeleton-parts.ts).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { parseSkeletonParts } from './skeleton-parts.js';
import { openSkeleton, type Skeleton } from './skeleton.js';

async function main(): Promise<void> {
  const [portText, dist, dataDir, withoutText] = process.argv.slice(2);
  if (!portText || !dist || !dataDir) throw new Error('usage: node skeleton-server.js PORT DIST DATA_DIR [audit,sigv4,aes]');
  const skeleton = await openSkeleton(dist, dataDir, new Set(parseSkeletonParts(withoutText ?? '')));
  const server = createServer({ keepAliveTimeout: 65_000, IncomingMessage: skeleton.EdgeRequest }, (req, res) => {
    if (req.method === 'GET') return send(res, 200, { 'content-type': 'application/json' }, '{"status":"ok"}');
    answer(skeleton, req, res).catch((error: unknown) => {
      process.stderr.write(`skeleton: ${error instanceof Error ? error.stack : String(error)}\n`);
      res.destroy();
    });
  });
  process.on('SIGTERM', () => server.close(() => void skeleton.close().finally(() => process.exit(0))));
  server.listen(Number(portText), '127.0.0.1');
}

async function answer(skeleton: Skeleton, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await bodyOf(req);
  const response = await skeleton.handle({ method: req.method ?? 'POST', url: req.url ?? '/', headers: req.headers, body, sourceIp: req.socket.remoteAddress });
  send(res, response.status, response.headers, response.body);
}

/**
 * The request's body: in one call when the parser has all of it already (as server/http.ts bufferedBody takes an
 * SDK's small request), else read as it comes.
 */
function bodyOf(req: IncomingMessage): Promise<Buffer> | Buffer {
  if (req.complete && req.readableFlowing === null) return req.readableLength === 0 ? Buffer.alloc(0) : (req.read() as Buffer);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** The head as a flat list and the body in one go, as server/http.ts send() writes them. */
function send(res: ServerResponse, status: number, headers: Record<string, string>, body: string): void {
  const head: string[] = [];
  for (const name in headers) head.push(name, headers[name]!);
  head.push('content-length', String(Buffer.byteLength(body)));
  res.writeHead(status, head);
  res.end(body);
}

main().catch((error: unknown) => {
  process.stderr.write(`skeleton failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
