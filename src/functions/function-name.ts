import type { RequestContext } from '../core/index.js';
import { functionNotFound, lambdaError } from './errors.js';

/** A function's own name: 1 to 64 of letters, digits, hyphens and underscores. */
export const FUNCTION_NAME_PATTERN = /^[a-zA-Z0-9_-]{1,64}$/;

/** `$LATEST` is the only version Coffer keeps; there are no published versions or aliases. */
export const LATEST = '$LATEST';

export function functionArn(region: string, accountId: string, name: string): string {
  return `arn:aws:lambda:${region}:${accountId}:function:${name}`;
}

export type FunctionRef = { accountId: string; region: string; name: string };

// https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#API_Invoke_RequestSyntax (FunctionName)
const FULL_ARN = /^arn:aws[a-zA-Z-]*:lambda:([a-z0-9-]+):(\d{12}):function:([^:]+)(?::([^:]+))?$/;
const PARTIAL_ARN = /^(\d{12}):function:([^:]+)(?::([^:]+))?$/;
const NAME = /^([^:]+)(?::([^:]+))?$/;

/**
 * Reads a FunctionName as Lambda accepts it: `my-function`, `my-function:$LATEST`,
 * `123456789012:function:my-function` or `arn:aws:lambda:us-east-1:123456789012:function:my-function`.
 * A function is found only in the caller's own account and region; anything else, and any qualifier but
 * `$LATEST`, is not found.
 */
export function resolveFunctionRef(ctx: RequestContext, functionName: string, qualifier?: string): FunctionRef {
  let accountId = ctx.principal.accountId;
  let region = ctx.region;
  let name: string | undefined;
  let arnQualifier: string | undefined;
  const full = FULL_ARN.exec(functionName);
  const partial = full ? undefined : PARTIAL_ARN.exec(functionName);
  const plain = full || partial ? undefined : NAME.exec(functionName);
  if (full) [, region, accountId, name, arnQualifier] = full as unknown as [string, string, string, string, string | undefined];
  else if (partial) [, accountId, name, arnQualifier] = partial as unknown as [string, string, string, string | undefined];
  else if (plain) [, name, arnQualifier] = plain as unknown as [string, string, string | undefined];
  if (name === undefined || !FUNCTION_NAME_PATTERN.test(name)) {
    throw lambdaError('InvalidParameterValueException', 'The function name is not a valid name, partial ARN or ARN.');
  }
  if (arnQualifier !== undefined && qualifier !== undefined && arnQualifier !== qualifier) {
    throw lambdaError('InvalidParameterValueException', 'The derived qualifier from the function name does not match the specified qualifier.');
  }
  const wanted = qualifier ?? arnQualifier;
  const outside = accountId !== ctx.principal.accountId || region !== ctx.region;
  if (outside || (wanted !== undefined && wanted !== LATEST)) {
    const arn = functionArn(region, accountId, name) + (wanted === undefined ? '' : `:${wanted}`);
    throw functionNotFound(arn);
  }
  return { accountId, region, name };
}
