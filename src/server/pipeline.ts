import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { AwsError, commonError, type AccessLedger, type Clock, type Logger, type OperationAccess, type OperationSpec, type RequestContext } from '../core/index.js';
import type { ApiCall, AuditRecorder } from '../audit/index.js';
import type { AuthenticateNow, Authenticated } from '../auth/index.js';
import type { Authorizer } from '../policy/index.js';
import {
  decodeJsonBody,
  decodeQueryBody,
  decodeRestRequest,
  encodeJsonBody,
  encodeQueryResponse,
  encodeRestResponse,
  isQueryRequest,
  JSON11_CONTENT_TYPE,
  renderError,
  renderQueryError,
  renderRestError,
  REST_JSON_CONTENT_TYPE,
  validationError,
  XML_CONTENT_TYPE,
  type QueryRouter,
  type QueryTarget,
  type RestRouter,
  type RestTarget,
  type Target,
} from '../protocol/index.js';

export type RawRequest = {
  method: string;
  path: string;
  query: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  sourceIp?: string;
  /** The connection is TLS (aws:SecureTransport). Coffer listens on plain HTTP today, so http.ts never sets it. */
  secure?: boolean;
};

export type RawResponse = { status: number; headers: Record<string, string>; body: string };

export type PipelineDeps = {
  route: (targetHeader: string | undefined) => Target;
  /** REST-JSON services (Lambda): a request without X-Amz-Target on a path they claim goes here. */
  restRouter?: RestRouter;
  /** Query services (IAM, STS): a form-encoded POST without X-Amz-Target goes here. */
  queryRouter?: QueryRouter;
  /** SigV4 and the principal; answers at once (without a promise) when the access key needs no store read. */
  authenticate: AuthenticateNow;
  /** Domain time: deletion windows, schedules, timestamps. Injected so tests move it. */
  clock: Clock;
  /**
   * Real time, for SigV4 freshness only: a signature is checked against the wall clock the client signed
   * with, so a test that moves the domain clock by days still talks to the server normally.
   */
  signatureClock: Clock;
  logger: Logger;
  /** Writes the one audit event of each call; absent only in tests of the pipeline itself. */
  audit?: AuditRecorder;
  /** Decides every call with the caller's policies (see OperationSpec.access). */
  authorizer: Authorizer;
  /**
   * Told of every call when it ends (metrics): its service's signing name and operation (undefined when it
   * named none), how it ended, and the performance.now() at which it entered the pipeline.
   */
  observeCall?: (service: string | undefined, operation: string | undefined, outcome: 'success' | 'client_error' | 'server_error', startedMs: number) => void;
};

/** The call's result is its output (one function for every call, not a closure made per call). */
const outputAsIs = (output: unknown): unknown => output;

/** The code reported for a failure before the target names a service. */
const GENERIC_INTERNAL_ERROR = 'InternalFailure';

/** How one wire protocol places a call on HTTP: which operation, its input, its output and its errors. */
type Protocol<T extends Target> = {
  route(request: RawRequest): T;
  decode(target: T, request: RawRequest): Record<string, unknown>;
  encode(target: T, output: unknown, requestId: string): RawResponse;
  renderError(error: unknown, internalErrorCode: string, requestId: string): { fault: 'client' | 'server'; code: string; response: RawResponse };
};

/**
 * The one request flow: request id → protocol → target → SigV4 → principal → input → schema → operation →
 * encode, with one audit event (an operation declared `unsigned` may skip SigV4: see isUnsignedCall). Every failure on the way is an AwsError rendered by the protocol's renderer.
 * The protocol is picked from the request: X-Amz-Target → JSON 1.1; a REST service's path → REST-JSON; a
 * form-encoded POST → Query (IAM, STS); anything else → JSON 1.1 (which reports the missing target).
 */
export function createPipeline(deps: PipelineDeps) {
  const protocols = {
    json: jsonProtocol(deps.route),
    rest: deps.restRouter && restProtocol(deps.restRouter),
    query: deps.queryRouter && queryProtocol(deps.queryRouter),
  };

  function protocolOf(request: RawRequest): Protocol<any> {
    if (header(request, 'x-amz-target') !== undefined) return protocols.json;
    if (protocols.rest && deps.restRouter!.claims(request.path)) return protocols.rest;
    if (protocols.query && isQueryRequest(request.method, header(request, 'content-type'))) return protocols.query;
    return protocols.json;
  }

  return async function handle(request: RawRequest): Promise<RawResponse> {
    const startedMs = deps.observeCall ? performance.now() : 0;
    const requestId = randomUUID();
    const protocol = protocolOf(request);
    let internalErrorCode = GENERIC_INTERNAL_ERROR;
    const call = newCall(request, requestId, deps.clock);
    const ledger: AccessLedger = { checks: 0 };
    try {
      // The audit event records the error code the client is sent (Query's AccessDenied, not AccessDeniedException).
      const wireCode = (error: unknown) => protocol.renderError(error, internalErrorCode, requestId).code;
      // Set by the call as soon as it is routed; read only to encode its output, so always set by then.
      let routed: Target | undefined;
      const response = await audited(deps.audit, call, ledger, () => {
        const target = protocol.route(request);
        routed = target;
        internalErrorCode = target.table.internalErrorCode;
        describeTarget(call, target);
        if (isUnsignedCall(request, target)) return decodeAndExecute(protocol, request, target, call, unsignedContext(request, requestId, ledger), deps);
        // No async frame here: a key verified at once (`--dev`'s) goes on to the operation in this same turn.
        let authenticated: Authenticated | Promise<Authenticated>;
        let ctx: RequestContext | undefined;
        try {
          authenticated = deps.authenticate(request, deps.signatureClock.now());
          if (!(authenticated instanceof Promise)) ctx = signedContext(request, requestId, target, ledger, authenticated);
        } catch (error) {
          throw refusedBeforePrincipal(call, request, error);
        }
        if (ctx) return decodeAndExecute(protocol, request, target, call, ctx, deps);
        return (authenticated as Promise<Authenticated>).then(
          (loaded) => {
            let loadedCtx: RequestContext;
            try {
              loadedCtx = signedContext(request, requestId, target, ledger, loaded);
            } catch (error) {
              throw refusedBeforePrincipal(call, request, error);
            }
            return decodeAndExecute(protocol, request, target, call, loadedCtx, deps);
          },
          (error: unknown) => {
            throw refusedBeforePrincipal(call, request, error);
          },
        );
      }, outputAsIs, (output) => protocol.encode(routed!, output, requestId), wireCode);
      deps.observeCall?.(call.service, call.operation, 'success', startedMs);
      return response;
    } catch (error) {
      const rendered = protocol.renderError(error, internalErrorCode, requestId);
      deps.observeCall?.(call.service, call.operation, rendered.fault === 'server' ? 'server_error' : 'client_error', startedMs);
      if (rendered.fault === 'server') {
        deps.logger.error('request failed', { requestId, method: request.method, path: request.path, target: header(request, 'x-amz-target'), error: describe(error) });
      }
      return rendered.response;
    }
  };

  /**
   * The context of an unsigned call to an operation that authenticates its caller itself (access 'unsigned': STS
   * AssumeRoleWithWebIdentity). Its principal is UNSIGNED_CALLER, which no policy names and which is never
   * recorded as the call's identity; the region is STS's global one, as an unsigned request names none.
   */
  function unsignedContext(request: RawRequest, requestId: string, access: AccessLedger): RequestContext {
    return {
      requestId,
      principal: UNSIGNED_CALLER,
      region: UNSIGNED_REGION,
      clock: deps.clock,
      sourceIp: request.sourceIp,
      userAgent: header(request, 'user-agent'),
      secureTransport: request.secure === true,
      access,
    };
  }

  /** The context of a call whose signature `authenticated` verified (no async layer of its own: one await less per call). */
  function signedContext(request: RawRequest, requestId: string, target: Target, access: AccessLedger, { identity, principal }: Authenticated): RequestContext {
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
      secureTransport: request.secure === true,
      access,
    };
  }
}

/**
 * A call refused before it has a principal records the access key its request claimed (audit's 'Unknown'
 * identity): read only then, not for every call (one regexp match and its result less per call). Returns the error.
 */
function refusedBeforePrincipal(call: ApiCall, request: RawRequest, error: unknown): unknown {
  call.claimedAccessKeyId = claimedAccessKeyId(request);
  return error;
}

/**
 * The call once it has its context: the principal on the audit event, the input decoded, and the operation run.
 * execute's promise handed back as it is (no {target, output} pair, no async layer awaiting it: that cost ≈ 0.4 KB
 * per call, returning it ≈ 0.14; bench/RESULTS.md, req-cpu).
 */
function decodeAndExecute(protocol: Protocol<any>, request: RawRequest, target: Target, call: ApiCall, ctx: RequestContext, deps: PipelineDeps): Promise<unknown> {
  if (ctx.principal !== UNSIGNED_CALLER) describeContext(call, ctx);
  else call.region = ctx.region;
  const input = protocol.decode(target, request);
  call.input = input;
  return execute(ctx, target, input, deps);
}

/** The caller of an unsigned call: no account, no ARN, no key (see unsignedContext). */
const UNSIGNED_CALLER: RequestContext['principal'] = Object.freeze({ accountId: '', arn: '', accessKeyId: '' });
/** STS's global endpoint is us-east-1; an unsigned request carries no credential scope to name another. */
const UNSIGNED_REGION = 'us-east-1';

/**
 * Whether a call goes without SigV4: only when its operation is declared `unsigned` and the request carries no
 * signature at all (neither an Authorization header nor a presigned X-Amz-Credential). A signed request to such
 * an operation is verified like any other, so a bad signature is still refused.
 */
function isUnsignedCall(request: RawRequest, target: Target): boolean {
  if (target.table.operations[target.operationName]?.access !== 'unsigned') return false;
  return header(request, 'authorization') === undefined && !/(?:^|&)X-Amz-Credential=/i.test(request.query);
}

/** AWS JSON 1.1: X-Amz-Target names the operation; JSON body in and out; `{"__type","message"}` errors. */
function jsonProtocol(route: PipelineDeps['route']): Protocol<Target> {
  return {
    route: (request) => route(header(request, 'x-amz-target')),
    decode: (_target, request) => decodeJsonBody(request.body),
    encode: (_target, output, requestId) => ({
      status: 200,
      body: encodeJsonBody(output),
      headers: { 'content-type': JSON11_CONTENT_TYPE, 'x-amzn-requestid': requestId },
    }),
    renderError(error, internalErrorCode, requestId) {
      const rendered = renderError(error, internalErrorCode, requestId);
      return {
        fault: rendered.fault,
        code: rendered.code,
        response: { status: rendered.status, body: rendered.body, headers: { 'content-type': JSON11_CONTENT_TYPE, 'x-amzn-requestid': requestId } },
      };
    },
  };
}

/** REST-JSON (Lambda): method + path → operation; bound members in and out. */
function restProtocol(router: RestRouter): Protocol<RestTarget> {
  return {
    route: (request) => router.route(request.method, request.path),
    decode: (target, request) => decodeRestRequest(target, request),
    encode(target, output, requestId) {
      const encoded = encodeRestResponse(target.route, output);
      return { status: encoded.status, body: encoded.body, headers: { ...encoded.headers, 'x-amzn-RequestId': requestId } };
    },
    renderError(error, internalErrorCode, requestId) {
      const rendered = renderRestError(error, internalErrorCode, requestId);
      return {
        fault: rendered.fault,
        code: rendered.code,
        response: {
          status: rendered.status,
          body: rendered.body,
          headers: { ...rendered.headers, 'content-type': REST_JSON_CONTENT_TYPE, 'x-amzn-RequestId': requestId },
        },
      };
    },
  };
}

/** AWS Query (IAM, STS): the credential scope names the service, `Action` the operation; XML out. */
function queryProtocol(router: QueryRouter): Protocol<QueryTarget> {
  const xmlHeaders = (requestId: string) => ({ 'content-type': XML_CONTENT_TYPE, 'x-amzn-RequestId': requestId });
  return {
    route: (request) => router.route(credentialScopeService(request), request.body),
    decode: (_target, request) => decodeQueryBody(request.body),
    encode: (target, output, requestId) => ({ status: 200, body: encodeQueryResponse(target, output, requestId), headers: xmlHeaders(requestId) }),
    renderError(error, internalErrorCode, requestId) {
      const rendered = renderQueryError(error, internalErrorCode, requestId);
      return { fault: rendered.fault, code: rendered.code, response: { status: rendered.status, body: rendered.body, headers: xmlHeaders(requestId) } };
    },
  };
}

/** `Credential=<key>/<date>/<region>/<service>/aws4_request` of the Authorization header. */
function credentialScopeService(request: RawRequest): string | undefined {
  return /Credential=[^/,\s]+\/[^/]+\/[^/]+\/([^/]+)\//.exec(header(request, 'authorization') ?? '')?.[1];
}

export type Pipeline = ReturnType<typeof createPipeline>;

/**
 * Parses the input with the operation's schema, once, authorizes, and runs the operation. Every caller comes
 * through here. Operations that authorize against their resource must make at least one check: one that
 * returns without any is a bug, and its result is withheld rather than served unauthorized. No async frame on the
 * common path (an operation that authorizes itself, fail-open auditing): only what must wait is awaited.
 */
function execute(
  callerCtx: RequestContext,
  target: Target,
  input: Record<string, unknown>,
  deps: { audit?: AuditRecorder; authorizer: Authorizer },
): Promise<unknown> {
  try {
    const spec = target.table.operations[target.operationName]!;
    // The pipeline's callers give a context with its ledger; a copy is made only to add one.
    const ctx: RequestContext = callerCtx.access ? callerCtx : { ...callerCtx, access: { checks: 0 } };
    const parsed = spec.parseCommon?.(input) ?? parseWithSchema(spec, input);
    const access = spec.access ?? 'action';
    if (access === 'action' || deps.audit?.failClosed) return checkedThenRun(ctx, target, spec, access, parsed, deps);
    return runChecked(ctx, target, spec, access, parsed);
  } catch (error) {
    return Promise.reject(error);
  }
}

/** execute's steps that may wait: the pipeline's action check, and fail-closed auditing's admission. */
async function checkedThenRun(
  ctx: RequestContext,
  target: Target,
  spec: OperationSpec,
  access: OperationAccess,
  parsed: unknown,
  deps: { audit?: AuditRecorder; authorizer: Authorizer },
): Promise<unknown> {
  if (access === 'action') {
    const action = `${target.table.signingName}:${target.operationName}`;
    await deps.authorizer.authorize(ctx, { action, resource: '*', resourceAccount: ctx.principal.accountId });
  }
  // Fail-closed auditing refuses a mutation before it runs when no event could be written now; fail-open (the
  // default) admits every call, so the call's description is made only for a fail-closed recorder.
  if (deps.audit?.failClosed) {
    const admitting = deps.audit.admit({ requestId: ctx.requestId, operation: target.operationName });
    if (admitting) await admitting;
  }
  return await runChecked(ctx, target, spec, access, parsed);
}

/** Runs the operation; a `resource` operation's output is withheld unless it made an authorization check. */
function runChecked(ctx: RequestContext, target: Target, spec: OperationSpec, access: OperationAccess, parsed: unknown): Promise<unknown> {
  const checksBefore = ctx.access!.checks;
  const running = Promise.resolve(spec.run(ctx, parsed));
  if (access !== 'resource') return running;
  return running.then((output) => {
    if (ctx.access!.checks === checksBefore) {
      throw new Error(`${target.table.signingName}:${target.operationName} returned without an authorization check`);
    }
    return output;
  });
}

/** The input parsed by the operation's zod schema, or its ValidationException (an input parseCommon did not take). */
function parseWithSchema(spec: OperationSpec, input: Record<string, unknown>): unknown {
  const parsed = spec.schema.safeParse(input);
  if (!parsed.success) throw validationError(parsed.error, spec.schema, input);
  return parsed.data;
}

/**
 * Runs one call and writes its one audit event when it ends, successful or not: the only writer of audit
 * events. The call's output (or error) goes back through `finish` (the response's encoding), unless fail-closed
 * auditing could not record it, which fails the call with AuditUnavailableError (rendered as the service's
 * internal error). `finish` runs while the event is being made durable, so the operation's output (a ListSecrets
 * page as objects) is not held across that wait: only its encoding is.
 */
async function audited<T, R>(
  audit: AuditRecorder | undefined,
  call: ApiCall,
  ledger: AccessLedger,
  run: () => Promise<T>,
  outputOf: (result: T) => unknown,
  finish: (result: T) => R,
  wireCode?: (error: unknown) => string,
): Promise<R> {
  if (!audit) return finish(await run());
  let result: T | undefined;
  try {
    result = await run();
  } catch (error) {
    // A call that named no known operation reached no service: it has no event name and is not recorded.
    if (!isAuditRefusal(error) && call.operation !== undefined) {
      await audit.record({ ...call, error: errorSummary(error, call.requestId, wireCode), resources: checkedResources(ledger) });
    }
    throw error;
  }
  // record() builds the event before its first await; the output is not needed after that, and is taken off the
  // call again (rather than handed over in a copy of the call) so the wait for durability does not hold it.
  call.output = outputOf(result);
  const recorded = audit.record(call);
  call.output = undefined;
  let finished: R;
  try {
    finished = finish(result);
  } catch (error) {
    await recorded.catch(() => undefined); // the event's own failure is the recorder's to log
    throw error;
  } finally {
    result = undefined;
  }
  await recorded;
  return finished;
}

/**
 * A failed call's resources are those its access checks were about (ledger.resources): ARNs, and for a refusal the
 * one formed from the caller's request, so the event of a refused call never holds a bare name, a secret's random
 * suffix or the key behind an alias. A call that failed before any check keeps what the audit reads from its input.
 */
function checkedResources(ledger: AccessLedger): ApiCall['resources'] {
  if (!ledger.resources?.length) return undefined;
  const unique = new Map(ledger.resources.map((resource) => [resource.arn, resource.accountId]));
  return [...unique].map(([ARN, accountId]) => ({ ARN, accountId }));
}

function isAuditRefusal(error: unknown): boolean {
  return error instanceof Error && error.name === 'AuditUnavailableError';
}

/**
 * The error code and message as the caller sees them: the code the protocol put on the wire when it is known
 * (Query renames the shared codes, an unknown throw becomes the service's internal error), the message of the
 * AwsError (an unknown throw's real message is only logged, never audited).
 */
function errorSummary(error: unknown, requestId: string, wireCode?: (error: unknown) => string): { code: string; message: string } {
  const message = error instanceof AwsError ? error.message : `An internal error occurred. Request id: ${requestId}`;
  if (wireCode) return { code: wireCode(error), message };
  return { code: error instanceof AwsError ? error.code : GENERIC_INTERNAL_ERROR, message };
}

function newCall(request: RawRequest, requestId: string, clock: Clock): ApiCall {
  return {
    requestId,
    time: clock.now(),
    sourceIp: request.sourceIp,
    userAgent: header(request, 'user-agent'),
  };
}

/** The access key id an Authorization header names, verified or not. */
function claimedAccessKeyId(request: RawRequest): string | undefined {
  return /Credential=([^/,\s]+)\//.exec(header(request, 'authorization') ?? '')?.[1];
}

function describeTarget(call: ApiCall, target: Target): void {
  call.service = target.table.signingName;
  call.operation = target.operationName;
}

function describeContext(call: ApiCall, ctx: RequestContext): void {
  call.principal = ctx.principal;
  call.region = ctx.region;
}

/**
 * The in-process entry for Coffer's own callers (the rotation runner, built-in rotators): the same route,
 * schema and operation as an HTTP request, with wire-shaped JSON in and out, so an in-process call behaves
 * exactly as the same call over HTTP would, and is audited alike (with `invokedBy` when a service acts itself;
 * without it for a built-in function acting as its execution role).
 */
export function createInvoker(deps: Pick<PipelineDeps, 'route' | 'audit' | 'authorizer'> & { invokedBy?: string }) {
  return async function invoke(ctx: RequestContext, target: string, input: Record<string, unknown>): Promise<Record<string, any>> {
    const call: ApiCall = { requestId: ctx.requestId, time: ctx.clock.now(), invokedBy: deps.invokedBy, userAgent: ctx.userAgent, input };
    const ledger: AccessLedger = ctx.access ?? { checks: 0 };
    describeContext(call, ctx);
    return audited(deps.audit, call, ledger, async () => {
      const routed = deps.route(target);
      describeTarget(call, routed);
      return execute({ ...ctx, access: ledger }, routed, input, deps);
    }, outputAsIs, (output) => JSON.parse(encodeJsonBody(output)) as Record<string, any>);
  };
}

export type Invoke = ReturnType<typeof createInvoker>;

function header(request: RawRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Logs the message and stack of an unexpected error; operations never put values into messages. */
function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
