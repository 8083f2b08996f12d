import { Agent, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { requestTarget, type WireRequest } from './wire.js';

/** What came back: a status, lower-case headers and the body, or no answer at all. */
export type Answer = { status: number; headers: Record<string, string>; body: string; error?: string };

/** The error of a request the client library refused to send (not the server's doing). */
export const CLIENT_REFUSED = 'client-refused';

/** No answer came (status 0): the connection failed or closed first. */
export function noAnswer(error: string): Answer {
  return { status: 0, headers: {}, body: '', error };
}

/** Sends a request on a keep-alive connection of `agent`. */
export function send(agent: Agent, port: number, request: WireRequest, timeoutMs = 60_000): Promise<Answer> {
  return new Promise((resolve) => {
    const { host: _host, ...headers } = request.headers;
    let outgoing: ReturnType<typeof httpRequest>;
    try {
      outgoing = httpRequest(
      { agent, host: '127.0.0.1', port, method: request.method, path: requestTarget(request), headers: { ...headers, host: request.headers.host ?? `127.0.0.1:${port}`, 'content-length': String(request.body.length) }, timeout: timeoutMs },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: flatHeaders(response.headers), body: Buffer.concat(chunks).toString('utf8') }));
        response.on('error', (error) => resolve(noAnswer(`response: ${error.message}`)));
      },
    );
    } catch (error) {
      // node:http refuses some header values before anything is sent: the request never reached the server.
      resolve(noAnswer(`${CLIENT_REFUSED}: ${(error as Error).message}`));
      return;
    }
    outgoing.on('timeout', () => outgoing.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    outgoing.on('error', (error) => resolve(noAnswer(error.message)));
    outgoing.end(request.body);
  });
}

function flatHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  return flat;
}

export type RawExchange = { answer: Answer; closedBy: 'server' | 'client' | 'timeout'; elapsedMs: number };

/**
 * Opens a connection, writes `chunks` (`pauseMs` apart: a slow client), and reads until the server closes it or
 * `giveUpMs` passes. The first response on the connection is the answer.
 */
export function rawExchange(port: number, chunks: readonly Buffer[], options: { pauseMs?: number; giveUpMs?: number } = {}): Promise<RawExchange> {
  const started = Date.now();
  const giveUpMs = options.giveUpMs ?? 15_000;
  return new Promise((resolve) => {
    const received: Buffer[] = [];
    let error: string | undefined;
    let settled = false;
    const finish = (closedBy: RawExchange['closedBy']) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(received).toString('utf8');
      resolve({ answer: text === '' ? noAnswer(error ?? 'closed without an answer') : parseResponse(text), closedBy, elapsedMs: Date.now() - started });
    };
    const socket = connect(port, '127.0.0.1', async () => {
      for (const chunk of chunks) {
        if (socket.destroyed || settled) return;
        socket.write(chunk);
        if (options.pauseMs) await new Promise((wait) => setTimeout(wait, options.pauseMs));
      }
    });
    const timer = setTimeout(() => finish('timeout'), giveUpMs);
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('close', () => finish('server'));
    socket.on('error', (failure: NodeJS.ErrnoException) => {
      // A reset after the answer arrived is the server closing a connection whose request it refused.
      error = failure.code ?? failure.message;
    });
  });
}

/** The first HTTP/1.1 response in `text` (the body by content-length, or what is left). */
export function parseResponse(text: string): Answer {
  const headEnd = text.indexOf('\r\n\r\n');
  if (headEnd === -1) return noAnswer(`an incomplete response: ${JSON.stringify(text.slice(0, 200))}`);
  const [statusLine = '', ...lines] = text.slice(0, headEnd).split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  if (!status) return noAnswer(`not an HTTP response: ${JSON.stringify(statusLine.slice(0, 200))}`);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const rest = text.slice(headEnd + 4);
  const length = Number(headers['content-length']);
  return { status: Number(status[1]), headers, body: Number.isInteger(length) ? Buffer.from(rest).subarray(0, length).toString('utf8') : rest };
}
