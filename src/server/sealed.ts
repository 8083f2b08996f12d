import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { commonError, createLogger } from '../core/index.js';
import { combineShares, decodeShare, RootKeyError, shareIndex, ShareFormatError } from '../crypto/index.js';
import { renderError } from '../protocol/index.js';
import { adminCredentialsText, writePrivateFile } from './bootstrap.js';
import { openCoffer, reachableUrl, type Coffer, type RunningServer } from './compose.js';
import type { CofferConfig } from './config.js';
import { listen, type EdgeLimits, type HttpServer } from './http.js';
import type { RawRequest, RawResponse } from './pipeline.js';

/**
 * A sealed start: the server listens, but holds no root key. It answers GET /health with 503 {"status":"sealed"},
 * every API request with a 503 ServiceUnavailable, and takes shares of the root key on POST /unseal, from loopback
 * only (`coffer unseal`), one at a time. With `threshold` distinct shares it combines them, and the combined key
 * opens the store exactly as a key file would: a key that does not match the data's check value is refused (then
 * every share entered is forgotten, and the message does not say which share was wrong). Shares are never logged.
 */
export type SealedServer = {
  http: HttpServer;
  threshold: number;
  /** Resolves once unsealed, with the server now serving. */
  unsealed: Promise<RunningServer>;
  close(): Promise<void>;
};

type UnsealReply = { status: number; body: Record<string, unknown> };

export async function startSealedServer(
  config: CofferConfig & { host: string; port: number; limits?: Partial<EdgeLimits> },
  threshold: number,
): Promise<SealedServer> {
  const logger = config.logger ?? createLogger();
  let serving: ((request: RawRequest) => Promise<RawResponse>) | undefined;
  let coffer: Coffer | undefined;
  const entered = new Map<number, Buffer>();
  let unsealing: Promise<unknown> = Promise.resolve();
  let resolveUnsealed!: (server: RunningServer) => void;
  const unsealed = new Promise<RunningServer>((resolve) => (resolveUnsealed = resolve));

  const http = await listen(
    async (request) => {
      if (serving) return serving(request);
      if (request.path === '/unseal' && request.method === 'POST') {
        // One share at a time: a combination runs alone, and a share entered meanwhile counts towards the next.
        const reply = unsealing.then(() => unseal(request));
        unsealing = reply.catch(() => undefined);
        return json(await reply);
      }
      return sealedRefusal();
    },
    { host: config.host, port: config.port, logger, limits: config.limits, health: () => (serving ? undefined : { status: 503, body: '{"status":"sealed"}' }) },
  );

  async function unseal(request: RawRequest): Promise<UnsealReply> {
    if (serving) return { status: 200, body: { sealed: false } };
    if (!isLoopback(request.sourceIp)) return { status: 403, body: { message: 'shares are accepted from this machine only (loopback)' } };
    let share: Buffer;
    try {
      const parsed = JSON.parse(request.body.toString('utf8')) as { share?: unknown };
      share = decodeShare(typeof parsed.share === 'string' ? parsed.share : '');
    } catch (error) {
      const why = error instanceof ShareFormatError ? error.message : 'the body must be JSON {"share": "coffer-share:..."}';
      return { status: 400, body: { message: `not a share: ${why}`, sealed: true, progress: entered.size, threshold } };
    }
    if (entered.has(shareIndex(share))) {
      return { status: 400, body: { message: 'this share was entered already; enter another one', sealed: true, progress: entered.size, threshold } };
    }
    entered.set(shareIndex(share), share);
    if (entered.size < threshold) return { status: 200, body: { sealed: true, progress: entered.size, threshold } };
    const shares = [...entered.values()];
    entered.clear();
    const key = await combineShares(shares);
    for (const each of shares) each.fill(0);
    try {
      coffer = await openCoffer({ ...config, logger, unsealedRootKey: key, endpointUrl: config.endpointUrl ?? reachableUrl(config.host, http.port), auditWriterAtOpen: true });
    } catch (error) {
      if (error instanceof RootKeyError) {
        logger.warn('unseal refused: the shares entered do not reconstruct the root key');
        return { status: 400, body: { message: `the shares do not reconstruct the root key; enter ${threshold} shares again`, sealed: true, progress: 0, threshold } };
      }
      logger.error('unseal: the store could not be opened', { error: error instanceof Error ? error.message : String(error) });
      return { status: 503, body: { message: 'the root key is right, but the store could not be opened; enter the shares again', sealed: true, progress: 0, threshold } };
    } finally {
      key.fill(0);
    }
    const opened = coffer;
    serving = opened.pipeline;
    if (opened.createdAdmin) writePrivateFile(join(config.dataDir, 'admin-credentials'), adminCredentialsText(opened.createdAdmin, http.url));
    logger.info('unsealed: serving');
    resolveUnsealed({ coffer: opened, http, requestsServed: () => 0, close: close });
    return { status: 200, body: { sealed: false, progress: threshold, threshold } };
  }

  async function close(): Promise<void> {
    await http.close();
    await coffer?.close();
    for (const share of entered.values()) share.fill(0);
    entered.clear();
  }

  return { http, threshold, unsealed, close };
}

function sealedRefusal(): RawResponse {
  const requestId = randomUUID();
  const rendered = renderError(commonError('ServiceUnavailable', 'Coffer is sealed: enter the root key shares with `coffer unseal` on the server\'s machine.'), 'InternalFailure', requestId);
  return { status: rendered.status, headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': requestId }, body: rendered.body };
}

function json(reply: UnsealReply): RawResponse {
  return { status: reply.status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(reply.body) };
}

function isLoopback(ip: string | undefined): boolean {
  return ip === '127.0.0.1' || ip === '::1' || ip === '::ffff:127.0.0.1' || (ip?.startsWith('127.') ?? false);
}
