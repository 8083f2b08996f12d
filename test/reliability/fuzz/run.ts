import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { startChildServer, type ChildServer } from '../../helpers/child-server.js';
import { caseArbitrary, type FuzzCase } from './cases.js';
import { fuzzOperations } from './catalog.js';
import { connectionFlood, slowBody, slowHeaders, type EdgeSettings } from './episodes.js';
import { execute, type Target } from './execute.js';
import { canaryRound, createCanaryKey, destroyClients, fuzzResources, sdkClients, type CanaryTally } from './fixtures.js';
import { CLIENT_REFUSED, send } from './transport.js';
import { codeOf, problemWith } from './verdict.js';
import { encodeCall, jsonText, signRequest } from './wire.js';

export type FuzzOptions = {
  seed: number;
  /** Requests to send (at least; a case may send two). */
  requests: number;
  /** Cases in flight at once. */
  concurrency: number;
  /** How often the slow-client and flood episodes run, in requests. */
  episodeEveryRequests: number;
  /** Clients in each slowloris / slow-body episode. */
  slowClients: number;
  edge: EdgeSettings;
  /** Progress lines (the full run prints them). */
  log?: (line: string) => void;
};

export type FuzzReport = {
  seed: number;
  requests: number;
  byKind: Record<string, number>;
  byCode: Record<string, number>;
  /** Requests node:http refused to send (header values it rejects): not counted as requests. */
  notSent: number;
  problems: string[];
  /** The server process exited during the run. */
  crashed: string | undefined;
  canary: CanaryTally;
  floods: { opened: number; dropped: number }[];
  rss: { beforeBytes: number; maxBytes: number; afterBytes: number; samples: number };
  audit: { events: number; growthBytes: number; bytesPerRequest: number; maxEventBytes: number };
  /** Lines the server logged at level error (every 5xx is logged). */
  serverErrors: string[];
  elapsedMs: number;
};

const REGION = 'us-east-1';
/** Cases generated per fast-check sample (each chunk has its own seed derived from the run's). */
const CHUNK = 500;

/**
 * Starts `coffer server` as a child process (its own RSS, its own exit), makes the fuzzer's resources, and sends
 * `requests` hostile requests from `concurrency` workers, with well-formed SDK calls (the canary) in a loop beside
 * them and, every `episodeEveryRequests`, slow clients and a connection flood. Judges every answer (verdict.ts).
 */
export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const started = Date.now();
  const dataDir = mkdtempSync(join(tmpdir(), 'coffer-fuzz-'));
  const server = await startChildServer({
    dataDir,
    direct: true, // as users start it: bin/coffer's own Node flags (the young generation's bound) apply
    args: [
      '--headers-timeout', String(options.edge.headersTimeoutMs),
      '--request-timeout', String(options.edge.requestTimeoutMs),
      '--max-connections', String(options.edge.maxConnections),
      '--maintenance-interval', '5',
    ],
  });
  const log = options.log ?? (() => {});
  try {
    return await fuzzServer(server, dataDir, options, log, started);
  } finally {
    await server.stop('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(`${dataDir}.audit-anchors`, { force: true });
  }
}

async function fuzzServer(server: ChildServer, dataDir: string, options: FuzzOptions, log: (line: string) => void, started: number): Promise<FuzzReport> {
  const credentials = server.printedAdmin!;
  const port = Number(new URL(server.url).port);
  const host = `127.0.0.1:${port}`;
  const clients = sdkClients(server.url, credentials, REGION);
  const known = await fuzzResources(clients);
  const canaryKeyId = await createCanaryKey(clients.kms);
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const target: Target = { port, host, agent, credentials, region: REGION, requestTimeoutMs: options.edge.requestTimeoutMs };
  const report: FuzzReport = {
    seed: options.seed, requests: 0, byKind: {}, byCode: {}, notSent: 0, problems: [], crashed: undefined,
    canary: { rounds: 0, calls: 0, failures: [] }, floods: [],
    rss: { beforeBytes: rssBytes(server.pid), maxBytes: 0, afterBytes: 0, samples: 0 },
    audit: { events: 0, growthBytes: 0, bytesPerRequest: 0, maxEventBytes: 0 },
    serverErrors: [], elapsedMs: 0,
  };
  const auditPath = join(dataDir, 'audit.db');
  const auditBefore = { bytes: fileBytes(auditPath), sequence: lastSequence(auditPath) };
  let stopping = false;
  void server.exited.then((exit) => {
    if (!stopping) report.crashed ??= `the server exited during the run: ${JSON.stringify(exit)}`;
  });
  const sampler = setInterval(() => {
    const bytes = rssBytes(server.pid);
    report.rss.samples += 1;
    report.rss.maxBytes = Math.max(report.rss.maxBytes, bytes);
  }, 200);

  const operations = fuzzOperations();
  const listKeys = operations.find((operation) => operation.service === 'kms' && operation.name === 'ListKeys')!;
  const cases = caseStream(options.seed, operations, known);
  let running = true;
  /** While a flood is on, new connections are refused by design: the workers wait (see connectionFlood). */
  let paused: Promise<void> | undefined;
  /** Cases and canary rounds under way: a flood starts only when none is (each may open a connection). */
  let inFlight = 0;
  let nextEpisodeAt = options.episodeEveryRequests;
  let nextLogAt = 10_000;
  const problem = (what: string, fuzzCase?: FuzzCase) => {
    if (report.problems.length < 200) report.problems.push(fuzzCase ? `${what}\n    case: ${describeCase(fuzzCase)}` : what);
  };

  const worker = async () => {
    while (running && report.requests < options.requests && !report.crashed) {
      await paused;
      const fuzzCase = cases.next();
      report.byKind[caseKind(fuzzCase)] = (report.byKind[caseKind(fuzzCase)] ?? 0) + 1;
      inFlight += 1;
      const exchanges = await execute(fuzzCase, target).finally(() => (inFlight -= 1));
      for (const exchange of exchanges) {
        if (exchange.answer.error?.startsWith(CLIENT_REFUSED)) {
          report.notSent += 1;
          continue;
        }
        report.requests += 1;
        if (exchange.noAnswerExpected) continue;
        const code = codeOf(exchange.answer);
        report.byCode[code] = (report.byCode[code] ?? 0) + 1;
        const found = problemWith(exchange.answer, exchange.protocol);
        if (found) problem(found, fuzzCase);
        else if (exchange.mustRefuse && exchange.answer.status < 400) problem(`a bad signature was accepted: HTTP ${exchange.answer.status}`, fuzzCase);
      }
      if (report.requests >= nextLogAt) {
        nextLogAt += 10_000;
        log(`${report.requests} requests, ${report.problems.length} problems, RSS max ${mib(report.rss.maxBytes)} MiB`);
      }
    }
  };

  const canaryLoop = async () => {
    while (running && !report.crashed) {
      await paused;
      inFlight += 1;
      await canaryRound(clients, canaryKeyId, report.canary).finally(() => (inFlight -= 1));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  const probeAgent = new Agent({ keepAlive: true, maxSockets: 1 });
  const probe = async (connection: 'kept-alive' | 'new' = 'kept-alive') => send(connection === 'new' ? new Agent() : probeAgent, port, await signRequest(encodeCall(listKeys, { Limit: 1 }), host, { credentials, service: 'kms', region: REGION }));
  const episodeLoop = async () => {
    while (running && !report.crashed) {
      if (report.requests < nextEpisodeAt) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      nextEpisodeAt += options.episodeEveryRequests;
      const slow = await Promise.all([slowHeaders(port, options.slowClients, options.edge), slowBody(port, options.slowClients, options.edge)]);
      for (const tally of slow) {
        report.requests += tally.requests;
        report.byKind.slow = (report.byKind.slow ?? 0) + tally.requests;
        tally.problems.forEach((found) => problem(found));
      }
      await probe(); // opens the probe's connection before the flood
      let resume!: () => void;
      paused = new Promise((resolve) => (resume = resolve));
      while (inFlight > 0) await new Promise((resolve) => setTimeout(resolve, 20));
      try {
        const flood = await connectionFlood(port, 64, options.edge, probe);
        report.requests += flood.requests;
        report.byKind.flood = (report.byKind.flood ?? 0) + 1;
        report.floods.push({ opened: flood.opened, dropped: flood.dropped });
        flood.problems.forEach((found) => problem(found));
      } finally {
        paused = undefined;
        resume();
      }
    }
  };

  const episodes = episodeLoop();
  const canaries = canaryLoop();
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  running = false;
  await Promise.all([episodes, canaries]);
  // After the run: the server still serves a well-formed round.
  await canaryRound(clients, canaryKeyId, report.canary);
  clearInterval(sampler);
  report.rss.afterBytes = rssBytes(server.pid);
  agent.destroy();
  probeAgent.destroy();
  destroyClients(clients);

  stopping = true;
  const stopped = await server.stop('SIGTERM');
  if (!report.crashed && stopped.code !== 0) report.crashed = `the server did not stop cleanly: ${JSON.stringify(stopped)}`;
  const audit = auditGrowth(auditPath, auditBefore);
  report.audit = { ...audit, bytesPerRequest: report.requests === 0 ? 0 : audit.growthBytes / report.requests };
  report.serverErrors = server.stderr().split('\n').filter((line) => line.includes('"level":"error"')).slice(0, 20);
  report.elapsedMs = Date.now() - started;
  return report;
}

/** Cases from fast-check, CHUNK at a time, each chunk from a seed derived from the run's: one seed replays a run. */
function caseStream(seed: number, operations: ReturnType<typeof fuzzOperations>, known: Parameters<typeof caseArbitrary>[1]) {
  const arbitrary = caseArbitrary(operations, known);
  let chunk: FuzzCase[] = [];
  let chunkIndex = 0;
  return {
    next(): FuzzCase {
      if (chunk.length === 0) {
        chunk = fc.sample(arbitrary, { seed: (seed + chunkIndex * 0x9e3779b1) | 0, numRuns: CHUNK }).reverse();
        chunkIndex += 1;
      }
      return chunk.pop()!;
    },
  };
}

function caseKind(fuzzCase: FuzzCase): string {
  if (fuzzCase.kind === 'call' && fuzzCase.probe) return `probe:${fuzzCase.probe}`;
  return fuzzCase.kind === 'call' ? `call:${fuzzCase.operation.protocol}` : `${fuzzCase.kind}:${fuzzCase.mutation.kind}`;
}

/** A case in a few hundred characters: operation, mutation, and the start of its input. */
export function describeCase(fuzzCase: FuzzCase): string {
  const input = jsonText(fuzzCase.input);
  const shown = input.length > 300 ? `${input.slice(0, 300)}… (${input.length} characters)` : input;
  return `${fuzzCase.operation.protocol} ${fuzzCase.operation.service}:${fuzzCase.operation.name} ${fuzzCase.kind}/${JSON.stringify(fuzzCase.mutation).slice(0, 200)} input ${shown}`;
}

function rssBytes(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

function fileBytes(path: string): number {
  return [path, `${path}-wal`].reduce((sum, file) => sum + (existsSync(file) ? statSync(file).size : 0), 0);
}

function lastSequence(path: string): number {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare('SELECT coalesce(max(sequence), 0) AS sequence FROM audit_events').get() as { sequence: number }).sequence;
  } finally {
    db.close();
  }
}

/** After the server stopped: how much audit.db grew, how many events were added and the largest one. */
function auditGrowth(path: string, before: { bytes: number; sequence: number }): { events: number; growthBytes: number; maxEventBytes: number } {
  const db = new Database(path, { readonly: true });
  try {
    const row = db.prepare('SELECT count(*) AS events, coalesce(max(length(CAST(body AS BLOB))), 0) AS maxBytes FROM audit_events WHERE sequence > ?').get(before.sequence) as { events: number; maxBytes: number };
    return { events: row.events, growthBytes: fileBytes(path) - before.bytes, maxEventBytes: row.maxBytes };
  } finally {
    db.close();
  }
}

export function mib(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}
