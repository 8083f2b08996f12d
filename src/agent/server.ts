import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../core/index.js';
import type { AgentConfig } from './config.js';
import { type CachedSecretValue, type SecretCache, type SecretVersionSelector } from './secret-cache.js';

/**
 * The HTTP side of `coffer agent`, answering as the AWS Secrets Manager Agent does
 * (https://docs.aws.amazon.com/secretsmanager/latest/userguide/secrets-manager-agent.html and its source,
 * github.com/aws/aws-secretsmanager-agent, for statuses and bodies the guide does not spell out):
 *
 *   GET /secretsmanager/get?secretId=ID[&versionStage=S|&versionId=V][&refreshNow=true]
 *   GET <path_prefix>ID[?versionStage=...]          (path style, prefix /v1/ by default)
 *   GET /ping                                       "healthy", without a token
 *
 * Checked in the Agent's order: the connection limit (429 "Connection limit exceeded"), then, for everything
 * but /ping, an X-Forwarded-For header (400 "Forwarded": the agent answers local callers only, never a proxy's
 * forwarded request) and the token in one of the SSRF headers (403 "Bad Token"), then the method (405 "Not
 * allowed"), then the path (404 "Not found"). A secret comes back as GetSecretValue's JSON in the Agent's form
 * (CreatedDate as a string of epoch seconds); a Secrets Manager error keeps its status and code as
 * {"__type":CODE, "message":MESSAGE}; no answer is 502 ConnectionError, a timeout 504 TimeoutError, anything
 * else 500 {"__type":"InternalFailure"}. No secret value is ever logged.
 */
export type AgentServerOptions = {
  config: Pick<AgentConfig, 'httpAddress' | 'httpPort' | 'ssrfHeaders' | 'pathPrefix' | 'maxConn'>;
  token: string;
  cache: SecretCache;
  logger: Logger;
};

export type RunningAgent = {
  url: string;
  address: string;
  port: number;
  close(): Promise<void>;
};

type Reply = { status: number; body: string };

/** Extra requests the limit lets through for health checks, so a busy agent still says it is alive. */
const HEALTH_CHECK_HEADROOM = 2;

export async function startAgentServer(options: AgentServerOptions): Promise<RunningAgent> {
  const handler = createAgentHandler(options);
  const server = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.config.httpPort, options.config.httpAddress, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  return {
    url: `http://${host}:${port}`,
    address,
    port,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      options.cache.close();
    },
  };
}

export function createAgentHandler(options: AgentServerOptions): (request: IncomingMessage, response: ServerResponse) => void {
  const { config, cache, logger } = options;
  const tokenDigest = digest(options.token);
  const tokenHeaders = config.ssrfHeaders.map((name) => name.toLowerCase());
  const bodies = new WeakMap<CachedSecretValue, string>();
  let active = 0;

  const hasToken = (request: IncomingMessage): boolean =>
    tokenHeaders.some((name) => {
      const value = request.headers[name];
      return typeof value === 'string' && timingSafeEqual(digest(value), tokenDigest);
    });

  const secretBody = (value: CachedSecretValue): string => {
    let body = bodies.get(value);
    if (body === undefined) {
      body = agentSecretJson(value);
      bodies.set(value, body);
    }
    return body;
  };

  /** Refusals and cache hits are answered synchronously; only a read from Secrets Manager returns a promise. */
  const answer = (request: IncomingMessage, path: string, query: string): Reply | Promise<Reply> => {
    if (path !== '/ping') {
      if (request.headers['x-forwarded-for'] !== undefined) {
        logger.warn('refused a request with an X-Forwarded-For header');
        return { status: 400, body: 'Forwarded' };
      }
      if (!hasToken(request)) {
        logger.warn('refused a request without the right token');
        return { status: 403, body: 'Bad Token' };
      }
    }
    if (request.method !== 'GET') return { status: 405, body: 'Not allowed' };
    if (path === '/ping') return { status: 200, body: 'healthy' };
    let parsed: SecretQuery | Reply;
    if (path === '/secretsmanager/get') parsed = parseQuery(query, undefined);
    else if (path.startsWith(config.pathPrefix)) parsed = parseQuery(query, path.slice(config.pathPrefix.length));
    else return { status: 404, body: 'Not found' };
    if ('status' in parsed) return parsed;
    if (!parsed.refreshNow) {
      const fresh = cache.peekFresh(parsed.secretId, parsed.selector);
      if (fresh) return { status: 200, body: secretBody(fresh) };
    }
    const { secretId, selector, refreshNow } = parsed;
    return (refreshNow ? cache.refreshNow(secretId, selector) : cache.getSecretValue(secretId, selector)).then(
      (value) => ({ status: 200, body: secretBody(value) }),
      (error: unknown) => errorReply(error, logger),
    );
  };

  return (request, response) => {
    const target = request.url ?? '/';
    const queryStart = target.indexOf('?');
    const path = queryStart === -1 ? target : target.slice(0, queryStart);
    const query = queryStart === -1 ? '' : target.slice(queryStart + 1);
    const limit = config.maxConn + (path === '/ping' ? HEALTH_CHECK_HEADROOM : 0);
    if (active >= limit) return send(response, { status: 429, body: 'Connection limit exceeded' });
    active += 1;
    response.once('close', () => (active -= 1));
    let reply: Reply | Promise<Reply>;
    try {
      reply = answer(request, path, query);
    } catch (error) {
      reply = Promise.reject(error);
    }
    if (!(reply instanceof Promise)) return send(response, reply);
    reply.then(
      (settled) => send(response, settled),
      (error: unknown) => {
        logger.error('agent request failed', { error: (error as Error).name });
        send(response, { status: 500, body: '{"__type":"InternalFailure"}' });
      },
    );
  };
}

type SecretQuery = { secretId: string; selector: SecretVersionSelector; refreshNow: boolean };

/**
 * The Agent's query rules: secretId (unless the path names the secret), versionId, versionStage, refreshNow
 * (true/false/1/0); any other parameter is refused.
 */
function parseQuery(query: string, pathSecretId: string | undefined): SecretQuery | Reply {
  const result: SecretQuery = { secretId: '', selector: {}, refreshNow: false };
  if (pathSecretId !== undefined) {
    try {
      result.secretId = decodeURIComponent(pathSecretId);
    } catch {
      return { status: 400, body: 'missing secret ID' };
    }
    if (result.secretId === '') return { status: 400, body: 'missing secret ID' };
  }
  for (const [name, value] of new URLSearchParams(query)) {
    if (name === 'secretId' && pathSecretId === undefined) result.secretId = value;
    else if (name === 'versionId') result.selector.versionId = value;
    else if (name === 'versionStage') result.selector.versionStage = value;
    else if (name === 'refreshNow') {
      const flag = value.toLowerCase();
      if (!['true', '1', 'false', '0'].includes(flag)) return { status: 400, body: 'invalid refreshNow value' };
      result.refreshNow = flag === 'true' || flag === '1';
    } else return { status: 400, body: `unknown parameter: ${name}` };
  }
  if (result.secretId === '') return { status: 400, body: 'missing parameter secretId' };
  return result;
}

/**
 * GetSecretValue's answer as the Agent writes it: ARN, Name and VersionId always (null when absent),
 * SecretString or SecretBinary (base64) and VersionStages when present, CreatedDate as a string of epoch
 * seconds with the fraction.
 */
export function agentSecretJson(value: CachedSecretValue): string {
  return JSON.stringify({
    ARN: value.ARN ?? null,
    Name: value.Name ?? null,
    VersionId: value.VersionId ?? null,
    ...(value.SecretString === undefined ? {} : { SecretString: value.SecretString }),
    ...(value.SecretBinary === undefined ? {} : { SecretBinary: Buffer.from(value.SecretBinary).toString('base64') }),
    ...(value.VersionStages === undefined ? {} : { VersionStages: value.VersionStages }),
    CreatedDate: value.CreatedDate === undefined ? null : String(value.CreatedDate.getTime() / 1000),
  });
}

const CONNECTION_ERROR_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

/** The Agent's mapping of a failed GetSecretValue to a status and a JSON 1.1 error body. */
function errorReply(error: unknown, logger: Logger): Reply {
  const failure = (error ?? {}) as { name?: string; message?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  const status = failure.$metadata?.httpStatusCode;
  if (status !== undefined && failure.name) {
    if (status >= 500) logger.warn('Secrets Manager answered with an error', { status, code: failure.name });
    if (!failure.message) return { status, body: '{"__type":"InternalFailure"}' };
    return { status, body: `{"__type":${JSON.stringify(failure.name)}, "message":${JSON.stringify(failure.message)}}` };
  }
  // The connection's error code first: the SDK names a connection cut mid-request (ECONNRESET) a TimeoutError.
  if (CONNECTION_ERROR_CODES.has(failure.code ?? '')) {
    logger.warn('Secrets Manager is unreachable', { code: failure.code });
    return { status: 502, body: '{"__type":"ConnectionError", "message":"Read Error"}' };
  }
  if (failure.name === 'TimeoutError' || failure.code === 'ETIMEDOUT' || failure.name === 'RequestTimeout') {
    logger.warn('Secrets Manager did not answer in time');
    return { status: 504, body: '{"__type":"TimeoutError", "message":"Timeout"}' };
  }
  // Missing credentials or region, a refused configuration: the cause is for the operator, not the caller.
  logger.error('GetSecretValue failed before Secrets Manager answered', { error: failure.name, message: failure.message });
  return { status: 500, body: '{"__type":"InternalFailure"}' };
}

function send(response: ServerResponse, reply: Reply): void {
  response.writeHead(reply.status, { 'content-length': Buffer.byteLength(reply.body) });
  response.end(reply.body);
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
