/**
 * One load run: autocannon's programmatic API over keep-alive connections, requests from a RequestSource,
 * with the server's CPU time read from /proc before and after and the load generator's own CPU beside it.
 *
 * Latency is recorded here from autocannon's per-response event (a float in ms) rather than taken from its
 * histogram, which rounds to whole milliseconds: sub-millisecond p50s are the interesting ones.
 */
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import type { Peer } from './peers.js';
import { systemBusyMicros } from './proc-stats.js';
import type { SignedCall } from './signer.js';
import type { RequestSource } from './workloads.js';

export type Measurement = {
  /** 2xx answers per second of the run. */
  requestsPerSecond: number;
  ok: number;
  /** Non-2xx answers + connection errors + timeouts. */
  errors: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Server process CPU (user + system, whole process tree) per answered request. */
  serverCpuMicrosPerRequest: number;
  /** CPU of the bench process (load generator, and signing where a workload signs per request). */
  clientCpuMicrosPerRequest: number;
  /** Mean server CPU utilisation over the run, in cores. */
  serverCores: number;
  /** CPU used meanwhile by everything else on the machine, in cores: noise when well above zero. */
  otherCores: number;
  seconds: number;
};

export type LoadOptions = {
  connections: number;
  durationSeconds: number;
  timeoutSeconds: number;
  /** Send exactly this many requests instead of running for durationSeconds. */
  amount?: number;
  /** Called with every 2xx answer's latency as it arrives (bench/tail-probe.ts lines answers up in time). */
  onAnswer?: (latencyMs: number) => void;
};

export async function runLoad(peer: Peer, source: RequestSource, options: LoadOptions): Promise<Measurement> {
  return runLoadSpread([{ url: peer.url, source }], () => peer.cpuMicros(), options);
}

/** One server of a run spread over several, and where its requests come from (signed for its Host). */
export type LoadTarget = { url: string; source: RequestSource };

/**
 * One run spread over several servers (the nodes of one deployment, with no load balancer in front): the
 * connections are split between them as evenly as they go (64 over 3: 22, 21, 21), one autocannon instance
 * each, all started together for the same duration; answers, errors and latencies are pooled. `serverCpuMicros`
 * reads the CPU of all of them together.
 */
export async function runLoadSpread(targets: LoadTarget[], serverCpuMicros: () => number, options: LoadOptions): Promise<Measurement> {
  const latencies = new LatencyLog();
  let ok = 0;
  const serverCpuBefore = serverCpuMicros();
  const clientCpuBefore = process.cpuUsage();
  const systemBefore = systemBusyMicros();
  const started = performance.now();
  const instances = targets.map((target, index) => {
    const instance = autocannon({
      url: target.url,
      connections: shareOf(options.connections, targets.length, index),
      duration: options.durationSeconds,
      ...(options.amount === undefined ? {} : { amount: shareOf(options.amount, targets.length, index) }),
      timeout: options.timeoutSeconds,
      pipelining: 1,
      // autocannon stops on its first sampling tick after the duration: sample often, so a run lasts its duration.
      sampleInt: 100,
      // A placeholder: the bytes of every request come from the source (sendFromSource).
      requests: [{ method: 'POST', path: '/' }],
      setupClient: (client: AutocannonClient) => {
        sendFromSource(client, target.source);
        reconnectWhenServerCloses(client);
      },
    });
    instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTimeMs: number) => {
      if (statusCode >= 200 && statusCode < 300) {
        ok += 1;
        latencies.add(responseTimeMs);
        options.onAnswer?.(responseTimeMs);
      }
    });
    return instance;
  });
  const results = await Promise.all(instances);
  const seconds = (performance.now() - started) / 1000;
  const serverCpu = serverCpuMicros() - serverCpuBefore;
  const clientCpu = process.cpuUsage(clientCpuBefore);
  const systemBusy = systemBusyMicros() - systemBefore;
  const answered = Math.max(ok, 1);
  return {
    requestsPerSecond: ok / seconds,
    ok,
    errors: results.reduce((sum, result) => sum + result.errors + result.non2xx, 0),
    p50Ms: latencies.percentile(50),
    p99Ms: latencies.percentile(99),
    maxMs: latencies.percentile(100),
    serverCpuMicrosPerRequest: serverCpu / answered,
    clientCpuMicrosPerRequest: (clientCpu.user + clientCpu.system) / answered,
    serverCores: serverCpu / 1e6 / seconds,
    otherCores: Math.max(0, systemBusy - serverCpu - clientCpu.user - clientCpu.system) / 1e6 / seconds,
    seconds,
  };
}

/** The `index`-th of `parts` near-equal shares of `total` (the first ones get the remainder). */
function shareOf(total: number, parts: number, index: number): number {
  return Math.floor(total / parts) + (index < total % parts ? 1 : 0);
}

/**
 * Waits until `peer` has drained (under 5% of a core) and, within the bench's budget for waiting on other
 * processes, until the machine is quiet (under 0.3 cores busy); returns how busy the machine still was.
 */
export async function settle(peer: Peer | undefined, budget: { remainingMs: number }): Promise<number> {
  const windowMs = 50;
  const started = performance.now();
  for (;;) {
    const peerBefore = peer?.cpuMicros() ?? 0;
    const systemBefore = systemBusyMicros();
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    const peerCores = ((peer?.cpuMicros() ?? 0) - peerBefore) / 1e3 / windowMs;
    const systemCores = (systemBusyMicros() - systemBefore) / 1e3 / windowMs;
    const waitedMs = performance.now() - started;
    if (peerCores < 0.05 && (systemCores < 0.3 || waitedMs >= budget.remainingMs)) {
      budget.remainingMs = Math.max(0, budget.remainingMs - waitedMs);
      return systemCores;
    }
    // A server that never drains (a runaway backlog) is waited for at most a few minutes.
    if (waitedMs > 300_000) throw new Error(`${peer?.name ?? 'the machine'} is still busy 5 minutes after a run`);
  }
}

/** `settle` without a server: only the machine. */
export function settleMachine(budget: { remainingMs: number }): Promise<number> {
  return settle(undefined, budget);
}

/**
 * autocannon 9's Client, the parts used here. The two hooks below replace instance methods of it; they
 * depend on autocannon's internals, pinned by the devDependency's major version.
 */
type AutocannonClient = {
  on(event: 'headers', listener: (info: { shouldKeepAlive?: boolean }) => void): void;
  getRequestBuffer(): Buffer;
  _doRequest(...args: unknown[]): unknown;
  _resetConnection(): unknown;
};

/**
 * Every request's bytes come from the source. A pooled request is serialised once and the same Buffer is
 * written each time it comes round; autocannon's own per-request hook (setupRequest) would rebuild the
 * request from its parts on every send, client CPU taken from the server on a two-core machine.
 */
function sendFromSource(client: AutocannonClient, source: RequestSource): void {
  client.getRequestBuffer = () => wireBytes(source.next());
}

const serialised = new WeakMap<SignedCall, Buffer>();

/** The request as it goes on the wire: request line, headers (with Content-Length and keep-alive), body. */
function wireBytes(call: SignedCall): Buffer {
  let bytes = serialised.get(call);
  if (bytes === undefined) {
    let head = 'POST / HTTP/1.1\r\nconnection: keep-alive\r\n';
    for (const [name, value] of Object.entries(call.headers)) head += `${name}: ${value}\r\n`;
    head += `content-length: ${call.body.length}\r\n\r\n`;
    bytes = Buffer.concat([Buffer.from(head, 'latin1'), call.body]);
    serialised.set(call, bytes);
  }
  return bytes;
}

/**
 * A client that reconnects when the server ends the connection (moto answers `Connection: close`).
 * autocannon 9 on its own writes the next request onto the closing socket and then reconnects as well,
 * which loses that request and skews its latency bookkeeping; here a response that does not keep the
 * connection alive makes the client open a new connection before sending the next request. On a keep-alive
 * server (Coffer, bare) this never triggers.
 */
function reconnectWhenServerCloses(client: AutocannonClient): void {
  let serverClosing = false;
  client.on('headers', (info) => {
    serverClosing = info.shouldKeepAlive === false;
  });
  const doRequest = client._doRequest;
  client._doRequest = function (this: AutocannonClient, ...args: unknown[]) {
    if (serverClosing) {
      serverClosing = false;
      return this._resetConnection();
    }
    return doRequest.apply(this, args);
  };
}

/** Every latency of a run (float ms), for exact percentiles. */
export class LatencyLog {
  #values = new Float64Array(1 << 16);
  #count = 0;

  add(ms: number): void {
    if (this.#count === this.#values.length) {
      const grown = new Float64Array(this.#values.length * 2);
      grown.set(this.#values);
      this.#values = grown;
    }
    this.#values[this.#count++] = ms;
  }

  percentile(p: number): number {
    if (this.#count === 0) return NaN;
    const sorted = this.#values.slice(0, this.#count).sort();
    return sorted[Math.min(this.#count - 1, Math.ceil((p / 100) * this.#count) - 1)]!;
  }
}
