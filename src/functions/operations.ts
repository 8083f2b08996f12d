import { createHash, randomUUID } from 'node:crypto';
import { commonError, type RequestContext } from '../core/index.js';
import type { FunctionPatch, FunctionRecord } from '../store/index.js';
import { BUILTIN_HAS_NO_CODE, builtinFunctionRecord, checkRotatorName } from './builtin-function.js';
import type { FunctionsDeps } from './deps.js';
import { checkExecutionRole } from './execution-role.js';
import type { EnvironmentVault, Variables } from './environment-vault.js';
import { functionNotFound, lambdaError } from './errors.js';
import { functionArn, LATEST, resolveFunctionRef } from './function-name.js';
import { functionConfiguration } from './function-view.js';
import { MAX_RESPONSE_BYTES } from './hosted.js';
import type { Runner } from './runner.js';
import { checkEnvironment, checkFunctionUrl, checkHandler, HTTP_RUNTIME, HTTP_URL_VARIABLE, kindOfRuntime } from './runtimes.js';
import type { Inputs } from './schemas.js';
import { checkZip } from './zip.js';

const DEFAULT_TIMEOUT_SECONDS = 3;
const DEFAULT_PAGE_SIZE = 50;
/** Lambda's limit on a synchronous request payload. */
const MAX_REQUEST_PAYLOAD_BYTES = 6 * 1024 * 1024;

const NEEDS_RUNTIME_AND_HANDLER = 'Runtime and Handler are mandatory parameters for functions created with deployment packages.';
const NO_CODE = 'Please provide a source for function code.';
const ZIP_ONLY = 'Coffer takes function code as Code.ZipFile only; S3 locations and container images are not supported.';
const HTTP_HAS_NO_CODE = `A ${HTTP_RUNTIME} function has no code package; its URL is Environment.Variables.${HTTP_URL_VARIABLE}, changed with UpdateFunctionConfiguration.`;

/**
 * The Lambda operations: CreateFunction, GetFunction, GetFunctionConfiguration, ListFunctions,
 * UpdateFunctionCode, UpdateFunctionConfiguration, DeleteFunction and Invoke, for the caller's account and
 * region. https://docs.aws.amazon.com/lambda/latest/api/API_Operations.html
 */
export function createFunctionOperations(deps: FunctionsDeps, runner: Runner, vault: EnvironmentVault) {
  async function load(ctx: RequestContext, name: string, qualifier?: string): Promise<FunctionRecord> {
    const ref = resolveFunctionRef(ctx, name, qualifier);
    const record = await deps.store.getFunction(ref.accountId, ref.region, ref.name);
    if (!record) throw functionNotFound(functionArn(ref.region, ref.accountId, ref.name));
    return record;
  }

  /** Best effort: the store has no conditional update on RevisionId, so two racing updates can both pass. */
  function checkRevision(record: FunctionRecord, revisionId: string | undefined): void {
    if (revisionId !== undefined && revisionId !== record.revisionId) {
      throw lambdaError('PreconditionFailedException', 'The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id');
    }
  }

  /** FunctionConfiguration with the variables opened as the caller (a customer key's policy applies to them). */
  async function describe(ctx: RequestContext, record: FunctionRecord) {
    return functionConfiguration(record, await vault.view(ctx, record));
  }

  async function update(record: FunctionRecord, ctx: RequestContext, patch: FunctionPatch) {
    const updated = await deps.store.updateFunction(record.accountId, record.region, record.name, {
      ...patch,
      lastModified: ctx.clock.now(),
      revisionId: randomUUID(),
    });
    if (!updated) throw functionNotFound(record.arn);
    return describe(ctx, updated);
  }

  /** The sealed form of `variables` (the wire map, an HTTP function's URL among them); the clear columns stay empty. */
  async function sealed(ctx: RequestContext, arn: string, kmsKeyArn: string | undefined, variables: Variables) {
    return { sealedEnvironment: await vault.seal(ctx, arn, kmsKeyArn, variables), environment: {}, url: undefined, kmsKeyArn };
  }

  return {
    async createFunction(ctx: RequestContext, input: Inputs['CreateFunction']) {
      const ref = resolveFunctionRef(ctx, input.FunctionName);
      if (input.PackageType === 'Image' || input.Code.ImageUri !== undefined) throw lambdaError('InvalidParameterValueException', ZIP_ONLY);
      if (input.Runtime === undefined) throw lambdaError('InvalidParameterValueException', NEEDS_RUNTIME_AND_HANDLER);
      const kind = kindOfRuntime(input.Runtime);
      const variables = input.Environment?.Variables ?? {};
      const kmsKeyArn = input.KMSKeyArn || undefined;
      const arn = functionArn(ref.region, ref.accountId, ref.name);
      const now = ctx.clock.now();
      const common = {
        arn,
        accountId: ref.accountId,
        region: ref.region,
        name: ref.name,
        role: input.Role,
        description: input.Description ?? '',
        timeoutSeconds: input.Timeout ?? DEFAULT_TIMEOUT_SECONDS,
        createdAt: now,
        lastModified: now,
        revisionId: randomUUID(),
      };
      await checkExecutionRole(deps.executionRoles, ref.accountId, input.Role);
      let record: FunctionRecord;
      if (kind === 'zip') {
        if (input.Role === undefined) {
          throw commonError('ValidationException', "1 validation error detected: Value null at 'role' failed to satisfy constraint: Member must not be null");
        }
        if (input.Handler === undefined) throw lambdaError('InvalidParameterValueException', NEEDS_RUNTIME_AND_HANDLER);
        const handler = checkHandler(input.Handler);
        if (input.Code.S3Bucket !== undefined || input.Code.S3Key !== undefined) throw lambdaError('InvalidParameterValueException', ZIP_ONLY);
        if (!input.Code.ZipFile) throw lambdaError('InvalidParameterValueException', NO_CODE);
        checkEnvironment(variables);
        const summary = await checkZip(input.Code.ZipFile);
        record = { ...common, kind, runtime: input.Runtime, handler, codeZip: input.Code.ZipFile, ...summary, ...(await sealed(ctx, arn, kmsKeyArn, variables)) };
      } else if (kind === 'builtin') {
        checkEnvironment(variables);
        record = { ...builtinFunctionRecord(common, input, deps.builtins?.names ?? [], {}), ...(await sealed(ctx, arn, kmsKeyArn, variables)) };
      } else {
        if (input.Code.ZipFile || input.Code.S3Bucket !== undefined || input.Code.S3Key !== undefined) {
          throw lambdaError('InvalidParameterValueException', HTTP_HAS_NO_CODE);
        }
        const { url } = splitHttpEnvironment(variables);
        const codeSha256 = urlSha256(url);
        record = { ...common, kind, runtime: HTTP_RUNTIME, handler: input.Handler, codeSha256, codeSize: 0, ...(await sealed(ctx, arn, kmsKeyArn, variables)) };
      }
      if (!(await deps.store.createFunction(record))) {
        throw lambdaError('ResourceConflictException', `Function already exist: ${ref.name}`);
      }
      return functionConfiguration(record, Object.keys(variables).length > 0 ? { Variables: variables } : undefined);
    },

    async getFunction(ctx: RequestContext, input: Inputs['GetFunction']) {
      const record = await load(ctx, input.FunctionName, input.Qualifier);
      return { Configuration: await describe(ctx, record), Code: codeLocation(record) };
    },

    async getFunctionConfiguration(ctx: RequestContext, input: Inputs['GetFunctionConfiguration']) {
      return describe(ctx, await load(ctx, input.FunctionName, input.Qualifier));
    },

    async listFunctions(ctx: RequestContext, input: Inputs['ListFunctions']) {
      const all = await deps.store.listFunctions(ctx.principal.accountId, ctx.region);
      const after = input.Marker === undefined ? undefined : decodeMarker(input.Marker);
      const remaining = after === undefined ? all : all.filter((record) => record.name > after);
      const page = remaining.slice(0, input.MaxItems ?? DEFAULT_PAGE_SIZE);
      const more = remaining.length > page.length;
      const functions = await Promise.all(page.map((record) => describe(ctx, record)));
      return { Functions: functions, NextMarker: more ? encodeMarker(page[page.length - 1]!.name) : undefined };
    },

    async updateFunctionCode(ctx: RequestContext, input: Inputs['UpdateFunctionCode']) {
      const record = await load(ctx, input.FunctionName);
      if (record.kind === 'http') throw lambdaError('InvalidParameterValueException', HTTP_HAS_NO_CODE);
      if (record.kind === 'builtin') throw lambdaError('InvalidParameterValueException', BUILTIN_HAS_NO_CODE);
      if (input.ImageUri !== undefined || input.S3Bucket !== undefined || input.S3Key !== undefined) {
        throw lambdaError('InvalidParameterValueException', ZIP_ONLY);
      }
      if (!input.ZipFile) throw lambdaError('InvalidParameterValueException', NO_CODE);
      checkRevision(record, input.RevisionId);
      const summary = await checkZip(input.ZipFile);
      if (input.DryRun) return describe(ctx, record);
      return update(record, ctx, { codeZip: input.ZipFile, ...summary });
    },

    async updateFunctionConfiguration(ctx: RequestContext, input: Inputs['UpdateFunctionConfiguration']) {
      const record = await load(ctx, input.FunctionName);
      checkRevision(record, input.RevisionId);
      const patch: FunctionPatch = {};
      if (input.Role !== undefined && input.Role !== record.role) {
        await checkExecutionRole(deps.executionRoles, record.accountId, input.Role);
        patch.role = input.Role;
      }
      if (input.Runtime !== undefined) {
        if (kindOfRuntime(input.Runtime) !== record.kind) {
          throw lambdaError('InvalidParameterValueException', `A function cannot change between ${HTTP_RUNTIME} and a code runtime; create a new function.`);
        }
        patch.runtime = input.Runtime;
      }
      if (input.Handler !== undefined) {
        patch.handler = record.kind === 'zip' ? checkHandler(input.Handler) : record.kind === 'builtin' ? checkRotatorName(input.Handler, deps.builtins?.names ?? []) : input.Handler;
      }
      if (input.Description !== undefined) patch.description = input.Description;
      if (input.Timeout !== undefined) patch.timeoutSeconds = input.Timeout;
      if (input.Environment !== undefined || input.KMSKeyArn !== undefined) {
        // New variables, or the old ones sealed again under the new key (opened as the caller).
        const variables = input.Environment !== undefined ? (input.Environment.Variables ?? {}) : await vault.open(ctx, record);
        if (record.kind === 'http') {
          patch.codeSha256 = urlSha256(splitHttpEnvironment(variables).url);
        } else {
          checkEnvironment(variables);
        }
        const kmsKeyArn = input.KMSKeyArn !== undefined ? input.KMSKeyArn || undefined : record.kmsKeyArn;
        Object.assign(patch, await sealed(ctx, record.arn, kmsKeyArn, variables));
      }
      return update(record, ctx, patch);
    },

    async deleteFunction(ctx: RequestContext, input: Inputs['DeleteFunction']) {
      const ref = resolveFunctionRef(ctx, input.FunctionName, input.Qualifier);
      if (!(await deps.store.deleteFunction(ref.accountId, ref.region, ref.name))) {
        throw functionNotFound(functionArn(ref.region, ref.accountId, ref.name));
      }
      return {};
    },

    /**
     * Invoke: RequestResponse runs the function and answers with its result, or with its error document and
     * `X-Amz-Function-Error: Unhandled`; Event answers 202 and runs it in the background; DryRun answers 204.
     * https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html
     */
    async invoke(ctx: RequestContext, input: Inputs['Invoke']) {
      if (input.Payload && input.Payload.length > MAX_REQUEST_PAYLOAD_BYTES) {
        throw lambdaError('RequestTooLargeException', `Request must be smaller than ${MAX_REQUEST_PAYLOAD_BYTES} bytes for the InvokeFunction operation`);
      }
      const event = parseEvent(input.Payload);
      const stored = await load(ctx, input.FunctionName, input.Qualifier);
      const invocationType = input.InvocationType ?? 'RequestResponse';
      if (invocationType === 'DryRun') return { StatusCode: 204 };
      const record = await vault.openForRun(ctx, stored);
      if (invocationType === 'Event') {
        runner.execute(record, event, ctx.requestId).then(
          (execution) => {
            if (!execution.outcome.ok) {
              deps.logger.info('asynchronous invocation failed', { functionName: record.name, requestId: ctx.requestId, errorType: execution.outcome.errorType });
            }
          },
          (error: unknown) => deps.logger.warn('asynchronous invocation not run', { functionName: record.name, requestId: ctx.requestId, error: String(error) }),
        );
        return { StatusCode: 202 };
      }
      const startedMs = Date.now();
      const execution = await runner.execute(record, event, ctx.requestId);
      const logResult = input.LogType === 'Tail' ? logTail(ctx.requestId, execution.logTail, Date.now() - startedMs) : undefined;
      const body = execution.outcome.ok ? execution.outcome.payload : (execution.errorDocument ?? {});
      const payload = Buffer.from(JSON.stringify(body ?? null), 'utf8');
      if (payload.length > MAX_RESPONSE_BYTES) {
        throw lambdaError('RequestTooLargeException', `Response payload size exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`);
      }
      return {
        StatusCode: 200,
        FunctionError: execution.outcome.ok ? undefined : 'Unhandled',
        LogResult: logResult,
        ExecutedVersion: LATEST,
        Payload: payload,
      };
    },
  };
}

export type FunctionOperations = ReturnType<typeof createFunctionOperations>;

/** LogType=Tail: the last 4 KB of the invocation's log, framed as Lambda frames it, base64. */
function logTail(requestId: string, output: string, durationMs: number): string {
  const log =
    `START RequestId: ${requestId} Version: ${LATEST}\n${output}${output === '' || output.endsWith('\n') ? '' : '\n'}` +
    `END RequestId: ${requestId}\nREPORT RequestId: ${requestId}\tDuration: ${durationMs.toFixed(2)} ms\n`;
  return Buffer.from(log.slice(-4096), 'utf8').toString('base64');
}

/** An empty payload is the event `{}`, as Lambda passes it. */
function parseEvent(payload: Buffer | undefined): unknown {
  if (!payload || payload.length === 0) return {};
  try {
    return JSON.parse(payload.toString('utf8')) as unknown;
  } catch {
    // Lambda quotes the parser's complaint; JSON.parse's quotes the payload itself, which may hold a secret.
    throw lambdaError('InvalidRequestContentException', 'Could not parse request body into json: the payload is not valid JSON.');
  }
}

function splitHttpEnvironment(variables: Record<string, string>): { url: string; environment: Record<string, string> } {
  const { [HTTP_URL_VARIABLE]: url, ...environment } = variables;
  checkEnvironment(environment);
  return { url: checkFunctionUrl(url), environment };
}

function urlSha256(url: string): string {
  return createHash('sha256').update(url, 'utf8').digest('base64');
}

/**
 * GetFunction's Code. Lambda answers with a presigned S3 URL to download the package; Coffer keeps packages
 * in its database and does not serve them, so Location names the code without being a download link.
 */
function codeLocation(record: FunctionRecord) {
  return { RepositoryType: 'S3', Location: `coffer:function-code/${record.arn}?CodeSha256=${encodeURIComponent(record.codeSha256 ?? '')}` };
}

function encodeMarker(name: string): string {
  return Buffer.from(name, 'utf8').toString('base64url');
}

function decodeMarker(marker: string): string {
  const name = Buffer.from(marker, 'base64url').toString('utf8');
  if (!/^[a-zA-Z0-9_-]{1,64}$/.test(name)) throw lambdaError('InvalidParameterValueException', 'The marker is not valid.');
  return name;
}
