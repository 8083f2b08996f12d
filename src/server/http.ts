import { randomUUID } from 'node:crypto';
import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { commonError, type Logger } from '../core/index.js';
import { isQueryRequest, JSON11_CONTENT_TYPE, renderError, renderQueryError, renderRestError, REST_JSON_CONTENT_TYPE, XML_CONTENT_TYPE } from '../protocol/index.js';
import type { MetricsResponder } from './metrics-endpoint.js';
import { createConsoleAssets, isConsolePath, type ConsoleAssets } from './console-assets.js';
import type { Pipeline } from './pipeline.js';
import { EdgeRequest, headersWithRepeats } from './request-headers.js';

/** Bodies above 1 MiB are refused. */
export const MAX_BODY_BYTES = 1024 * 1024;
/**
 * Lambda's CreateFunction and UpdateFunctionCode carry the zip base64 in the body, and Invoke takes up to
 * 6 MB: those paths get larger limits (a 16 MiB body holds a zip of about 12 MB).
 */
export const MAX_FUNCTION_CODE_BODY_BYTES = 16 * 1024 * 1024;
export const MAX_INVOKE_BODY_BYTES = 6 * 1024 * 1024 + 1024;
const LAMBDA_PATH = /^\/2015-03-31\/functions(?:\/([^/]+)\/(code|invocations))?$/;
/**
 * A refused body is still read (and dropped) before the 413 goes out, up to these bounds: a client that is
 * still writing when the server closes the connection sees a reset instead of the answer.
 */
const MAX_DISCARDED_BYTES = 64 * MAX_BODY_BYTES;
const DISCARD_TIMEOUT_MS = 2_000;
const SHUTDOWN_GRACE_MS = 10_000;

export type HttpServer = { url: string; port: number; close(): Promise<void> };

/**
 * What one client may hold of the server (`coffer server` flags). Node's own defaults let a slow body keep a
 * socket for five minutes and accept connections without bound.
 */
export type EdgeLimits = {
  /** A request's line and headers must arrive within this time (408 otherwise). */
  headersTimeoutMs: number;
  /** The whole request, headers and body, must arrive within this time (408 otherwise). */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this time. */
  keepAliveTimeoutMs: number;
  /** Connections open at once; one more is closed as soon as it is accepted. */
  maxConnections: number;
  /** The request line and headers together (431 above it). */
  maxHeaderBytes: number;
  /**
   * Request bodies held in memory at once, over all connections (each is held until its response is sent);
   * a body that would go over it is refused with ThrottlingException, which the SDKs retry with backoff.
   */
  maxBodyMemoryBytes: number;
};

export const DEFAULT_EDGE_LIMITS: EdgeLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 60_000,
  keepAliveTimeoutMs: 65_000,
  maxConnections: 1_024,
  maxHeaderBytes: 16 * 1024,
  maxBodyMemoryBytes: 256 * 1024 * 1024,
};

/**
 * The HTTP edge: `GET /health`, and every other request through the pipeline. close() stops accepting,
 * lets in-flight requests finish (their responses carry `connection: close`, so keep-alive connections end
 * with them), and then resolves; after SHUTDOWN_GRACE_MS it stops waiting and drops what is left.
 */
export async function listen(
  pipeline: Pipeline,
  options: { host: string; port: number; logger: Logger; limits?: Partial<EdgeLimits>; health?: () => { status: number; body: string } | undefined; metrics?: MetricsResponder },
): Promise<HttpServer> {
  const limits = { ...DEFAULT_EDGE_LIMITS, ...options.limits };
  let inFlight = 0;
  let state: 'open' | 'closing' | 'closed' = 'open';
  let drained: (() => void) | undefined;
  const nextBatch = createBatcher();
  const bodyMemory = new BodyMemory(limits.maxBodyMemoryBytes);
  const consoleAssets = createConsoleAssets();
  // One Edge and one pair of callbacks for the server's life: nothing of them differs between requests.
  const edge: Edge = { logger: options.logger, nextBatch, bodyMemory, consoleAssets, closing: () => state !== 'open', health: options.health, metrics: options.metrics };
  const answered = () => {
    inFlight -= 1;
    if (inFlight === 0) drained?.();
  };
  const failedToAnswer = (error: unknown) => {
    answered();
    throw error;
  };

  const server = createServer(
    {
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: Math.max(limits.requestTimeoutMs, limits.headersTimeoutMs),
      maxHeaderSize: limits.maxHeaderBytes,
      // Node checks the two timeouts on this period (30 s by default): a tenth of the shorter one keeps them close.
      connectionsCheckingInterval: Math.max(10, Math.min(1_000, Math.floor(limits.headersTimeoutMs / 10))),
      // Its `headers` are node's, made for less CPU (server/request-headers.ts).
      IncomingMessage: EdgeRequest,
    },
    (req, res) => {
    if (state === 'closed') {
      // Pipelined behind a request that was answered during shutdown: the store may be gone already.
      req.socket.destroy();
      return;
    }
    inFlight += 1;
    answer(pipeline, req, res, edge).then(answered, failedToAnswer);
    },
  );
  server.maxConnections = limits.maxConnections;
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => answerClientError(error, socket as Socket, limits, options.logger));
  let lastDropWarningMs = 0;
  server.on('drop', () => {
    // Warned at most once a minute: a flood of connections must not become a flood of log lines.
    if (Date.now() - lastDropWarningMs < 60_000) return;
    lastDropWarningMs = Date.now();
    options.logger.warn('connections refused: --max-connections reached', { maxConnections: limits.maxConnections });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // After start-up an 'error' (say EMFILE on accept) is logged; with no listener it would end the process.
  server.on('error', (error) => options.logger.error('HTTP server error', { error: error.message }));
  const { port } = server.address() as AddressInfo;
  const urlHost = options.host.includes(':') ? `[${options.host}]` : options.host;

  let closing: Promise<void> | undefined;
  function close(): Promise<void> {
    closing ??= shutDown();
    return closing;
  }

  async function shutDown(): Promise<void> {
    state = 'closing';
    // server.close() stops accepting and drops idle keep-alive connections; it calls back when none is left.
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    let graceTimer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<void>((resolve) => (graceTimer = setTimeout(resolve, SHUTDOWN_GRACE_MS)));
    const allAnswered = inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => (drained = resolve));
    await Promise.race([allAnswered, graceOver]);
    state = 'closed';
    // Answered connections end by themselves (connection: close); any left idle go now.
    server.closeIdleConnections();
    await Promise.race([closed, graceOver]);
    clearTimeout(graceTimer);
    server.closeAllConnections();
    await closed;
  }

  return { url: `http://${urlHost}:${port}`, port, close };
}

type Edge = {
  logger: Logger;
  nextBatch: () => Promise<void>;
  bodyMemory: BodyMemory;
  consoleAssets: ConsoleAssets;
  closing: () => boolean;
  /** Another answer to GET /health than 200 ok (a sealed server: server/sealed.ts); undefined: ok. */
  health?: () => { status: number; body: string } | undefined;
  metrics?: MetricsResponder;
};

/** The bytes of request bodies this server holds; `take` refuses what would go over the limit. */
class BodyMemory {
  #heldBytes = 0;
  readonly #limitBytes: number;

  constructor(limitBytes: number) {
    this.#limitBytes = limitBytes;
  }

  take(bytes: number): boolean {
    if (this.#heldBytes + bytes > this.#limitBytes) return false;
    this.#heldBytes += bytes;
    return true;
  }

  give(bytes: number): void {
    this.#heldBytes -= bytes;
  }
}

async function answer(pipeline: Pipeline, req: IncomingMessage, res: ServerResponse, edge: Edge): Promise<void> {
  const { logger, nextBatch, bodyMemory, consoleAssets, health, metrics } = edge;
  const held = { bytes: 0 };
  try {
    const url = req.url ?? '/';
    const queryStart = url.indexOf('?');
    const path = queryStart === -1 ? url : url.slice(0, queryStart);
    const query = queryStart === -1 ? '' : url.slice(queryStart + 1);
    if (req.method === 'GET' && path === '/health') {
      const other = health?.();
      if (other) return reply(res, edge, other.status, { 'content-type': 'application/json' }, other.body);
      return reply(res, edge, 200, { 'content-type': 'application/json' }, '{"status":"ok"}');
    }
    if (metrics && req.method === 'GET' && path === '/metrics') {
      const scraped = await metrics(req);
      return reply(res, edge, scraped.status, scraped.headers, scraped.body);
    }
    if (isConsolePath(path)) {
      // The web console's static files (server/console-assets.ts); the API calls it makes come back through the pipeline.
      const { status, headers, body } = consoleAssets.answer(req.method ?? 'GET', path);
      return reply(res, edge, status, headers, body);
    }
    const limit = bodyLimit(req, path);
    await nextBatch();
    const body = bufferedBody(req, limit, bodyMemory, held) ?? (await readBodyForNextBatch(req, limit, bodyMemory, held, nextBatch));
    if (body === 'aborted') return;
    if (body === 'too-large' || body === 'no-memory') return refuseBody(req, res, path, limit, body);
    const response = await pipeline({ method: req.method ?? 'GET', path, query, headers: headersWithRepeats(req.headers, req.rawHeaders), body, sourceIp: req.socket.remoteAddress });
    reply(res, edge, response.status, response.headers, response.body);
  } catch (error) {
    const requestId = randomUUID();
    logger.error('unexpected failure at the HTTP edge', { requestId, error: error instanceof Error ? error.stack : String(error) });
    if (!res.headersSent && !res.destroyed) {
      reply(res, edge, 500, edgeHeaders(requestId), '{"__type":"InternalFailure","message":"An internal error occurred."}');
    }
  } finally {
    bodyMemory.give(held.bytes);
  }
}

/** The answer to a request, with `connection: close` once the server is shutting down. */
function reply(res: ServerResponse, edge: Edge, status: number, headers: Record<string, string>, body: string | Buffer): void {
  send(res, status, headers, body, edge.closing());
}

/** A body over the limit or over the memory bound: the protocol's error, and the connection closes. */
function refuseBody(req: IncomingMessage, res: ServerResponse, path: string, limit: number, why: 'too-large' | 'no-memory'): void {
  const requestId = randomUUID();
  const refusal =
    why === 'too-large'
      ? commonError('RequestEntityTooLargeException', `The request body exceeds ${limit} bytes.`)
      : commonError('ThrottlingException', 'The server is holding too many request bodies; retry shortly.');
  if (isLambdaRequest(req, path)) {
    const rendered = renderRestError(refusal, 'ServiceException', requestId);
    const headers = { ...rendered.headers, 'content-type': REST_JSON_CONTENT_TYPE, 'x-amzn-RequestId': requestId };
    return send(res, rendered.status, headers, rendered.body, true);
  }
  if (isQueryEdgeRequest(req)) {
    // IAM and STS clients read Query's XML ErrorResponse, not JSON (the pipeline picks Query the same way).
    const rendered = renderQueryError(refusal, 'InternalFailure', requestId);
    return send(res, rendered.status, { 'content-type': XML_CONTENT_TYPE, 'x-amzn-RequestId': requestId }, rendered.body, true);
  }
  const rendered = renderError(refusal, 'InternalFailure', requestId);
  return send(res, rendered.status, edgeHeaders(requestId), rendered.body, true);
}

/**
 * One server's `nextBatch()`: resolves in the check phase of this turn of the event loop, together for every
 * request parsed in this turn's poll phase (and every body whose last bytes came in it). Those requests then run through the pipeline side by
 * side: each await hands over to the next request at the same step, so the same code (SigV4, the store's
 * statements, the ciphers) runs many times in a row while it is in the CPU's caches, rather than each request
 * running all of it before the next one starts. Measured at 64 connections: see bench/RESULTS.md.
 */
function createBatcher(): () => Promise<void> {
  let batch: Promise<void> | undefined;
  return () =>
    (batch ??= new Promise((resolve) =>
      setImmediate(() => {
        batch = undefined;
        resolve();
      }),
    ));
}

/** A Lambda REST request: no X-Amz-Target, a path under /2015-03-31/ (the pipeline routes it the same way). */
function isLambdaRequest(req: IncomingMessage, path: string): boolean {
  return req.headers['x-amz-target'] === undefined && path.startsWith('/2015-03-31/');
}

/** An AWS Query request (IAM, STS): a form-encoded POST without X-Amz-Target (the pipeline routes it the same way). */
function isQueryEdgeRequest(req: IncomingMessage): boolean {
  return req.headers['x-amz-target'] === undefined && isQueryRequest(req.method ?? '', req.headers['content-type']);
}

function bodyLimit(req: IncomingMessage, path: string): number {
  if (req.headers['x-amz-target'] !== undefined) return MAX_BODY_BYTES;
  const lambda = LAMBDA_PATH.exec(path);
  if (!lambda) return MAX_BODY_BYTES;
  if (lambda[2] === 'invocations' && req.method === 'POST') return MAX_INVOKE_BODY_BYTES;
  const createsCode = (lambda[2] === undefined && req.method === 'POST') || (lambda[2] === 'code' && req.method === 'PUT');
  return createsCode ? MAX_FUNCTION_CODE_BODY_BYTES : MAX_BODY_BYTES;
}

/**
 * What Node's HTTP parser refused before a request existed (bad header characters, Content-Length together with
 * Transfer-Encoding, headers over the limit, a request not received in time) gets an AWS-shaped answer instead of
 * Node's empty 400/431: `{"__type","message"}` with the code also in `x-amzn-ErrorType` (what Lambda's REST
 * clients read), then the connection closes. The message is fixed per case: the raw bytes are never repeated.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Socket, limits: EdgeLimits, logger: Logger): void {
  if (error.code === 'ECONNRESET' || error.code === 'EPIPE' || !socket.writable || isAnswering(socket)) {
    socket.destroy();
    return;
  }
  const requestId = randomUUID();
  const { status, code, message } = describeClientError(error, limits);
  logger.debug('refused a request the HTTP parser could not accept', { requestId, code: error.code, status });
  const body = JSON.stringify({ __type: code, message });
  const head = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}`,
    `content-type: ${JSON11_CONTENT_TYPE}`,
    `x-amzn-requestid: ${requestId}`,
    `x-amzn-errortype: ${code}`,
    `content-length: ${Buffer.byteLength(body)}`,
    'connection: close',
  ];
  lingeringClose(socket, `${head.join('\r\n')}\r\n\r\n${body}`);
}

/** How long a refused connection is read and dropped after its answer, at most (see lingeringClose). */
const LINGER_MS = 2_000;

/**
 * Answers and closes a connection whose client may still be sending (a 1 MB header line): closing with its bytes
 * unread makes the kernel reset the connection, and the client may lose the answer that was already on its way.
 * So the answer is sent with a FIN, what still comes is read and dropped (the parser is detached first: it has
 * failed), and the socket is destroyed when the client closes or after LINGER_MS.
 */
function lingeringClose(socket: Socket, answer: string): void {
  socket.removeAllListeners('data');
  socket.on('data', () => {});
  socket.on('error', () => socket.destroy());
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
  socket.end(answer);
  socket.resume();
}

function describeClientError(error: NodeJS.ErrnoException, limits: EdgeLimits): { status: number; code: string; message: string } {
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    return { status: 431, code: 'RequestHeaderFieldsTooLarge', message: `The request line and headers exceed ${limits.maxHeaderBytes} bytes.` };
  }
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT' || error.code === 'ERR_HTTP_HEADERS_TIMEOUT') {
    return { status: 408, code: 'RequestTimeoutException', message: `The request was not received in full in time (headers within ${limits.headersTimeoutMs} ms, all of it within ${limits.requestTimeoutMs} ms).` };
  }
  // Node's parser codes (HPE_INVALID_HEADER_TOKEN, HPE_UNEXPECTED_CONTENT_LENGTH, ...) are constants, safe to name.
  const reason = /^HPE_[A-Z_]{1,40}$/.test(error.code ?? '') ? ` (${error.code})` : '';
  return { status: 400, code: 'BadRequestException', message: `The request is not valid HTTP/1.1${reason}.` };
}

/**
 * The response each socket was last given (send): a parser error on a socket whose response is still being
 * written can only close it. A map entry per socket rather than a 'finish' listener per response.
 */
const lastResponse = new WeakMap<Socket, ServerResponse>();

function isAnswering(socket: Socket): boolean {
  const res = lastResponse.get(socket);
  return res !== undefined && !res.writableFinished;
}

function edgeHeaders(requestId: string): Record<string, string> {
  return { 'content-type': JSON11_CONTENT_TYPE, 'x-amzn-requestid': requestId };
}

/**
 * Writes the head and the body in one go. The head goes to writeHead as a flat [name, value, ...] list: no
 * second headers object just to add content-length.
 */
function send(res: ServerResponse, status: number, headers: Record<string, string>, body: string | Buffer, close = false): void {
  if (res.destroyed) return;
  const socket = res.socket;
  if (socket) lastResponse.set(socket, res);
  const head: string[] = [];
  for (const name in headers) head.push(name, headers[name]!);
  head.push('content-length', String(Buffer.byteLength(body)));
  if (close) head.push('connection', 'close');
  res.writeHead(status, head);
  res.end(body);
}

const EMPTY_BODY = Buffer.alloc(0);

/**
 * The body when the parser has already read all of it (its last byte came in the same read as the headers, as
 * an SDK's small request does): taken from the stream's buffer in one call, without the listeners, the
 * flowing-mode events and the promise readBody needs to wait for it. Undefined when it is still arriving, is
 * over `limit` or would go over the memory bound: readBody then reads or refuses it.
 */
function bufferedBody(req: IncomingMessage, limit: number, memory: BodyMemory, held: { bytes: number }): Buffer | undefined {
  if (!req.complete || req.readableFlowing !== null) return undefined;
  const bytes = req.readableLength;
  if (bytes > limit || !memory.take(bytes)) return undefined;
  held.bytes += bytes;
  return bytes === 0 ? EMPTY_BODY : (req.read() as Buffer);
}

/** readBody, and then the batch after it: a body that took more than one read joins the requests of its turn. */
async function readBodyForNextBatch(
  req: IncomingMessage,
  limit: number,
  memory: BodyMemory,
  held: { bytes: number },
  nextBatch: () => Promise<void>,
): Promise<Buffer | 'too-large' | 'no-memory' | 'aborted'> {
  const body = await readBody(req, limit, memory, held);
  if (Buffer.isBuffer(body)) await nextBatch();
  return body;
}

/**
 * The whole body, 'too-large' above `limit` bytes (declared or counted), or 'aborted' when the client went
 * away first. A refused body is drained within bounds before the answer, so the client can read the 413.
 */
function readBody(req: IncomingMessage, limit: number, memory: BodyMemory, held: { bytes: number }): Promise<Buffer | 'too-large' | 'no-memory' | 'aborted'> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let discarded = 0;
    let refused: 'too-large' | 'no-memory' | undefined;
    let settled = false;
    let discardTimer: NodeJS.Timeout | undefined;

    const settle = (result: Buffer | 'too-large' | 'no-memory' | 'aborted') => {
      if (settled) return;
      settled = true;
      clearTimeout(discardTimer);
      resolve(result);
    };
    const refuse = (why: 'too-large' | 'no-memory') => {
      refused = why;
      chunks.length = 0;
      memory.give(held.bytes);
      held.bytes = 0;
      discardTimer = setTimeout(() => settle(why), DISCARD_TIMEOUT_MS);
    };

    if (Number(req.headers['content-length'] ?? 0) > limit) refuse('too-large');
    req.on('data', (chunk: Buffer) => {
      if (refused) {
        discarded += chunk.length;
        if (discarded > MAX_DISCARDED_BYTES) settle(refused);
        return;
      }
      size += chunk.length;
      if (size > limit) return refuse('too-large');
      if (!memory.take(chunk.length)) return refuse('no-memory');
      held.bytes += chunk.length;
      chunks.push(chunk);
    });
    req.on('end', () => settle(refused ?? (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks))));
    // A client that disconnects mid-body gets no answer; 'close' without 'end' means it is gone.
    req.on('error', () => settle('aborted'));
    req.on('close', () => settle(req.complete ? (refused ?? Buffer.concat(chunks)) : 'aborted'));
  });
}
