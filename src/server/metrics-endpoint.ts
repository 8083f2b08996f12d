import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../core/index.js';
import { createCofferMetrics, type CofferMetrics } from './metrics.js';

/**
 * `GET /metrics`: who may read it, and the separate listener of `--metrics-port`.
 *
 * - With a token (`--metrics-token`, COFFER_METRICS_TOKEN) every scrape must send `Authorization: Bearer <token>`;
 *   anything else is 401.
 * - Without one, metrics are served only by a listener bound to a loopback address (the default --host
 *   127.0.0.1): what only this machine can reach. On any other address they are refused (403, saying what to
 *   set), unless `--metrics-unauthenticated` says an open scrape is intended (a private network, a sidecar).
 * Metrics hold no secret names or values, but operation counts and key states still describe a deployment.
 */
export type MetricsConfig = {
  /** A listener of its own on this port (`--metrics-port`); absent: /metrics on the API port. */
  port?: number;
  /** The separate listener's address (`--metrics-host`); default the API's --host. */
  host?: string;
  /** The bearer token a scrape must present. */
  token?: string;
  /** Serve without a token on a non-loopback address. */
  allowUnauthenticated?: boolean;
  /** Add prom-client's process and Node.js metrics (the CLI does; in-process test servers may leave them off). */
  processMetrics?: boolean;
  /**
   * The text of a scrape, when it is not this process's registry alone: a cluster worker asks the primary,
   * which gathers every worker's metrics (cluster.ts).
   */
  scrape?: () => Promise<string>;
};

export type MetricsReply = { status: number; headers: Record<string, string>; body: string };
export type MetricsResponder = (request: Pick<IncomingMessage, 'headers'>) => Promise<MetricsReply>;

const PLAIN = { 'content-type': 'text/plain; charset=utf-8' };

export type MetricsAccess = 'token' | 'open' | 'refused';

/** Whether a listener on `host` serves metrics, and how (see the module comment). */
export function metricsAccess(host: string, config: Pick<MetricsConfig, 'token' | 'allowUnauthenticated'>): MetricsAccess {
  if (config.token) return 'token';
  if (config.allowUnauthenticated || isLoopbackHost(host)) return 'open';
  return 'refused';
}

/** 127.0.0.0/8, ::1 (also as ::ffff:127.x) and `localhost`; a wildcard address (0.0.0.0, ::) is not loopback. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (bare === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1' || /^::ffff:127\./i.test(bare);
  return false;
}

export type PreparedMetrics = { instruments: CofferMetrics; responder: MetricsResponder; host: string; access: MetricsAccess };

/** This process's instruments and the responder of its /metrics, served on `host` (the API's unless --metrics-host). */
export function prepareMetrics(config: MetricsConfig, apiHost: string, logger: Logger): PreparedMetrics {
  const instruments = createCofferMetrics({ processMetrics: config.processMetrics ?? false });
  const host = config.port === undefined ? apiHost : (config.host ?? apiHost);
  const access = metricsAccess(host, config);
  if (access === 'refused') {
    logger.warn('GET /metrics is refused: no --metrics-token on a non-loopback address (see --metrics-unauthenticated)', { host });
  }
  const scrape = config.scrape
    ? async () => ({ contentType: instruments.registry.contentType, body: await config.scrape!() })
    : async () => ({ contentType: instruments.registry.contentType, body: await instruments.registry.metrics() });
  return { instruments, responder: metricsResponder(access, config.token, scrape, logger), host, access };
}

/** Answers a scrape after checking it against `access`; the token is compared in constant time. */
export function metricsResponder(access: MetricsAccess, token: string | undefined, scrape: () => Promise<{ contentType: string; body: string }>, logger: Logger): MetricsResponder {
  const expected = token === undefined ? undefined : digest(token);
  return async (request) => {
    if (access === 'refused') {
      return {
        status: 403,
        headers: PLAIN,
        body: 'Metrics are not served without a token on a non-loopback address: set --metrics-token (or COFFER_METRICS_TOKEN), or --metrics-unauthenticated.\n',
      };
    }
    if (access === 'token' && !presentsToken(request.headers.authorization, expected!)) {
      return { status: 401, headers: { ...PLAIN, 'www-authenticate': 'Bearer realm="coffer-metrics"' }, body: 'A valid bearer token is required.\n' };
    }
    try {
      const { contentType, body } = await scrape();
      return { status: 200, headers: { 'content-type': contentType }, body };
    } catch (error) {
      logger.error('metrics scrape failed', { error: error instanceof Error ? error.message : String(error) });
      return { status: 500, headers: PLAIN, body: 'The metrics could not be gathered; see the server log.\n' };
    }
  };
}

function presentsToken(header: string | undefined, expected: Buffer): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match !== null && timingSafeEqual(digest(match[1]!), expected);
}

/** Equal-length digests, so the comparison takes the same time whatever the length of what was sent. */
function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

export type MetricsServer = { url: string; port: number; close(): Promise<void> };

/** The listener of `--metrics-port`: `GET /metrics` and nothing else. */
export async function listenMetrics(responder: MetricsResponder, options: { host: string; port: number; logger: Logger }): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const reply = (answer: MetricsReply) => {
      res.writeHead(answer.status, { ...answer.headers, 'content-length': Buffer.byteLength(answer.body) });
      res.end(answer.body);
    };
    if (req.method !== 'GET' || path !== '/metrics') return reply({ status: 404, headers: PLAIN, body: 'Only GET /metrics is served here.\n' });
    responder(req).then(reply, (error: unknown) => {
      options.logger.error('metrics request failed', { error: error instanceof Error ? error.message : String(error) });
      if (!res.headersSent) reply({ status: 500, headers: PLAIN, body: 'Internal error.\n' });
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (error) => options.logger.error('metrics server error', { error: error.message }));
  const { port } = server.address() as AddressInfo;
  const urlHost = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${urlHost}:${port}/metrics`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
