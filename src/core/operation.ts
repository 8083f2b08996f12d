import type { ZodType } from 'zod';
import type { RequestContext } from './context.js';

/** One AWS operation: the zod schema its input is parsed with once at the edge, and the function that runs it. */
export type OperationSpec<I = any, O = any> = {
  schema: ZodType<I, any>;
  run: (ctx: RequestContext, input: I) => O | Promise<O>;
};

/** The operation table a service hands to the protocol codec, keyed by the AWS operation name. */
export type ServiceTable = {
  /** `TrentService` for KMS, `secretsmanager` for Secrets Manager: the X-Amz-Target prefix. */
  targetPrefix: string;
  /** The service name in the SigV4 credential scope (`kms`, `secretsmanager`). */
  signingName: string;
  /** The code an unexpected failure is reported as (`KMSInternalException`, `InternalServiceError`). */
  internalErrorCode: string;
  operations: Record<string, OperationSpec>;
};

export function operation<I, O>(
  schema: ZodType<I, any>,
  run: (ctx: RequestContext, input: I) => O | Promise<O>,
): OperationSpec<I, O> {
  return { schema, run };
}
