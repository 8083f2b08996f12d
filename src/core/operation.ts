import type { ZodType } from 'zod';
import type { RequestContext } from './context.js';

/** One AWS operation: the zod schema its input is parsed with once at the edge, and the function that runs it. */
export type OperationSpec<I = any, O = any> = {
  schema: ZodType<I, any>;
  run: (ctx: RequestContext, input: I) => O | Promise<O>;
  /**
   * How the call is authorized. `action` (default): the pipeline checks `<signingName>:<Operation>` on resource
   * `*` with the caller's identity policies before the operation runs. `resource`: the operation checks its
   * resource itself (the secret, the key, with their policies) through the authorizer, and the pipeline fails a
   * call that returns without any check. `none`: anyone authenticated (sts:GetCallerIdentity). `unsigned`: the
   * request may come without SigV4 and the operation authenticates its caller itself (STS
   * AssumeRoleWithWebIdentity, whose token is the credential); a signed request is still verified.
   */
  access?: OperationAccess;
  /**
   * The operation's common, well-formed input parsed by hand (core/common-input.ts): the same result `schema` gives,
   * or undefined for any other input, which `schema` then parses (and refuses with its messages). Only on the hot
   * paths (Decrypt, GetSecretValue), where zod's walk of the object was ≈ 1 µs of each call.
   */
  parseCommon?: (input: Record<string, unknown>) => I | undefined;
};

export type OperationAccess = 'action' | 'resource' | 'none' | 'unsigned';

/** The operation table a service hands to the protocol codec, keyed by the AWS operation name. */
export type ServiceTable = {
  /** `TrentService` for KMS, `secretsmanager` for Secrets Manager: the X-Amz-Target prefix. */
  targetPrefix: string;
  /**
   * Other prefixes clients send for the same service: the AWS SDK for JavaScript v3 sends CloudTrail's short
   * `CloudTrail_20131101` where botocore sends `com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101`, and AWS
   * answers both.
   */
  targetPrefixAliases?: readonly string[];
  /** The service name in the SigV4 credential scope (`kms`, `secretsmanager`). */
  signingName: string;
  /** The code an unexpected failure is reported as (`KMSInternalException`, `InternalServiceError`). */
  internalErrorCode: string;
  operations: Record<string, OperationSpec>;
};

export function operation<I, O>(
  schema: ZodType<I, any>,
  run: (ctx: RequestContext, input: I) => O | Promise<O>,
  access: OperationAccess = 'action',
  parseCommon?: (input: Record<string, unknown>) => I | undefined,
): OperationSpec<I, O> {
  return { schema, run, access, parseCommon };
}

/**
 * How one operation of a REST-JSON service (Lambda) sits on HTTP, after Smithy's binding traits: a method and
 * a path template whose `{Label}`s fill input members, query parameters and headers bound to members, and
 * either a JSON body of the remaining members or one member that is the whole body (httpPayload).
 */
export type RestRoute = {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** `/2015-03-31/functions/{FunctionName}/invocations`: a label matches one URI-decoded path segment. */
  path: string;
  operation: string;
  /** Query parameter name → input member (values stay strings; the schema converts them). */
  query?: Record<string, string>;
  /** Request header name (lower case) → input member. */
  headers?: Record<string, string>;
  /** The input member that receives the raw body as a Buffer; without it the body is a JSON object of members. */
  payload?: string;
  /** The status of a success; default 200. */
  status?: number;
  /** Output members sent outside the JSON body: as headers, as the raw body, or as the status code. */
  output?: { headers?: Record<string, string>; payload?: string; status?: string };
};

/** A REST-JSON service's table: its operations plus the routes that place them on HTTP. */
export type RestServiceTable = ServiceTable & {
  /** Every route's path starts with this (`/2015-03-31/` for Lambda); the pipeline sends such paths here. */
  pathPrefix: string;
  routes: readonly RestRoute[];
};

/**
 * A service spoken in the AWS Query protocol (IAM, STS): `Action=<Operation>&Version=<version>` form bodies in,
 * XML in `xmlNamespace` out. The SigV4 credential scope's service picks the table (its `signingName`).
 */
export type QueryServiceTable = ServiceTable & {
  /** `2010-05-08` for IAM, `2011-06-15` for STS. */
  version: string;
  /** `https://iam.amazonaws.com/doc/2010-05-08/` */
  xmlNamespace: string;
};
