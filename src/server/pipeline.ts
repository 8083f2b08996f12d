import { randomUUID } from 'node:crypto';
import { commonError, type Clock, type Logger, type RequestContext } from '../core/index.js';
import type { Authenticate } from '../auth/index.js';
import { decodeJsonBody, encodeJsonBody, JSON11_CONTENT_TYPE, renderError, validationError, type Target } from '../protocol/index.js';

export type RawRequest = {
  method: string;
  path: string;
  query: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  sourceIp?: string;
};

export type RawResponse = { status: number; headers: Record<string, string>; body: string };

export type PipelineDeps = {
  route: (targetHeader: string | undefined) => Target;
  authenticate: Authenticate;
  /** Domain time: deletion windows, schedules, timestamps. Injected so tests move it. */
  clock: Clock;
  /**
   * Real time, for SigV4 freshness only: a signature is checked against the wall clock the client signed
   * with, so a test that moves the domain clock by days still talks to the server normally.
   */
  signatureClock: Clock;
  logger: Logger;
};

/** The code reported for a failure before the target names a service. */
const GENERIC_INTERNAL_ERROR = 'InternalFailure';

/**
 * The one request flow: request id → target → SigV4 → principal → JSON → schema → operation → encode.
 * Every failure on the way is an AwsError rendered by protocol/render-error.
 */
export function createPipeline(deps: PipelineDeps) {
  return async function handle(request: RawRequest): Promise<RawResponse> {
    const requestId = randomUUID();
    let internalErrorCode = GENERIC_INTERNAL_ERROR;
    try {
      const target = deps.route(header(request, 'x-amz-target'));
      internalErrorCode = target.table.internalErrorCode;
      const ctx = await authenticatedContext(request, requestId, target);
      const spec = target.table.operations[target.operationName]!;
      const parsed = spec.schema.safeParse(decodeJsonBody(request.body));
      if (!parsed.success) throw validationError(parsed.error, spec.schema);
      const output = await spec.run(ctx, parsed.data);
      return respond(200, requestId, encodeJsonBody(output));
    } catch (error) {
      const rendered = renderError(error, internalErrorCode, requestId);
      if (rendered.fault === 'server') {
        deps.logger.error('request failed', { requestId, target: header(request, 'x-amz-target'), error: describe(error) });
      }
      return respond(rendered.status, requestId, rendered.body);
    }
  };

  async function authenticatedContext(request: RawRequest, requestId: string, target: Target): Promise<RequestContext> {
    const { identity, principal } = await deps.authenticate(request, deps.signatureClock.now());
    if (identity.service !== target.table.signingName) {
      throw commonError('InvalidSignatureException', `Credential should be scoped to correct service: '${target.table.signingName}'.`);
    }
    return {
      requestId,
      principal,
      region: identity.region,
      clock: deps.clock,
      sourceIp: request.sourceIp,
      userAgent: header(request, 'user-agent'),
    };
  }
}

export type Pipeline = ReturnType<typeof createPipeline>;

function respond(status: number, requestId: string, body: string): RawResponse {
  return { status, body, headers: { 'content-type': JSON11_CONTENT_TYPE, 'x-amzn-requestid': requestId } };
}

function header(request: RawRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Logs the message and stack of an unexpected error; operations never put values into messages. */
function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
