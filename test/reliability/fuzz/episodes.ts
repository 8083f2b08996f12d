import { connect, type Socket } from 'node:net';
import { problemWith } from './verdict.js';
import { rawExchange, type Answer } from './transport.js';

export type EdgeSettings = { headersTimeoutMs: number; requestTimeoutMs: number; maxConnections: number };

/** What an episode found: requests answered, and the problems among them. */
export type EpisodeTally = { requests: number; problems: string[] };

/** How long past a timeout the server may take to act on it: Node checks timeouts periodically (http.ts). */
const TIMER_SLACK_MS = 5_000;

/**
 * Slowloris: `count` clients that send a request line and then headers one byte every 200 ms, never ending
 * them. Each must get a 408 RequestTimeoutException and be closed at the headers timeout, not held.
 */
export async function slowHeaders(port: number, count: number, edge: EdgeSettings): Promise<EpisodeTally> {
  const chunks = [Buffer.from('POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: '), ...Array.from({ length: 2_000 }, () => Buffer.from('a'))];
  return trickle(port, count, chunks, edge.headersTimeoutMs, 'headers');
}

/** Slow body: complete headers, then the body one byte every 200 ms; 408 at the request timeout. */
export async function slowBody(port: number, count: number, edge: EdgeSettings): Promise<EpisodeTally> {
  const head = 'POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Target: TrentService.ListKeys\r\nContent-Length: 5000\r\n\r\n';
  const chunks = [Buffer.from(head), ...Array.from({ length: 5_000 }, () => Buffer.from(' '))];
  return trickle(port, count, chunks, edge.requestTimeoutMs, 'body');
}

async function trickle(port: number, count: number, chunks: Buffer[], timeoutMs: number, what: string): Promise<EpisodeTally> {
  const exchanges = await Promise.all(Array.from({ length: count }, () => rawExchange(port, chunks, { pauseMs: 200, giveUpMs: timeoutMs + 2 * TIMER_SLACK_MS })));
  const problems: string[] = [];
  for (const { answer, closedBy, elapsedMs } of exchanges) {
    const problem = problemWith(answer, 'any');
    if (problem) problems.push(`slow ${what}: ${problem}`);
    else if (answer.status !== 408) problems.push(`slow ${what}: HTTP ${answer.status} instead of 408`);
    if (closedBy !== 'server' || elapsedMs > timeoutMs + TIMER_SLACK_MS) problems.push(`slow ${what}: held ${elapsedMs} ms (closed by ${closedBy}), timeout ${timeoutMs} ms`);
  }
  return { requests: count, problems };
}

export type FloodTally = EpisodeTally & { opened: number; dropped: number };

/**
 * A connection flood: `maxConnections + extra` connections opened at once and held idle. The server drops the
 * ones over its limit as it accepts them; a request on a connection that was open before the flood is still
 * served (`probe`, on a connection kept alive from before), and after the flood ends new connections work.
 */
export async function connectionFlood(port: number, extra: number, edge: EdgeSettings, probe: (connection: 'kept-alive' | 'new') => Promise<Answer>): Promise<FloodTally> {
  const sockets: Socket[] = [];
  let dropped = 0;
  const opened = await Promise.all(
    Array.from(
      { length: edge.maxConnections + extra },
      () =>
        new Promise<boolean>((resolve) => {
          const socket = connect(port, '127.0.0.1', () => resolve(true));
          socket.on('error', () => resolve(false));
          socket.on('close', () => (dropped += 1));
          sockets.push(socket);
        }),
    ),
  );
  // Give the server time to accept (and drop) what is over its limit: a loaded machine may take a while.
  for (const deadline = Date.now() + 5_000; dropped < extra && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 50));
  const problems: string[] = [];
  const droppedByServer = dropped;
  const during = await probe('kept-alive');
  const duringProblem = problemWith(during, 'json');
  if (duringProblem || during.status !== 200) problems.push(`flood: a kept-alive connection was not served during the flood: ${duringProblem ?? during.status}`);
  if (droppedByServer < extra) problems.push(`flood: only ${droppedByServer} of ${edge.maxConnections + extra} connections dropped, limit ${edge.maxConnections}`);
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => setTimeout(resolve, 200));
  const afterwards = await probe('new');
  const afterProblem = problemWith(afterwards, 'json');
  if (afterProblem || afterwards.status !== 200) problems.push(`flood: a new connection was not served after the flood: ${afterProblem ?? afterwards.status}`);
  return { requests: 2, problems, opened: opened.filter(Boolean).length, dropped: droppedByServer };
}
