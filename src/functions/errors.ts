import { errorFactory } from '../core/index.js';

/**
 * The Lambda error codes Coffer answers with, and their HTTP status.
 * https://docs.aws.amazon.com/lambda/latest/api/CommonErrors.html and each operation's Errors section.
 */
export const lambdaErrors = {
  InvalidParameterValueException: 400,
  InvalidRequestContentException: 400,
  // KMS refusing to seal or open a function's variables (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#API_Invoke_Errors).
  KMSAccessDeniedException: 502,
  KMSDisabledException: 502,
  KMSInvalidStateException: 502,
  KMSNotFoundException: 502,
  PreconditionFailedException: 412,
  RequestTooLargeException: 413,
  ResourceConflictException: 409,
  ResourceNotFoundException: 404,
  ServiceException: 500,
  TooManyRequestsException: 429,
} as const;

export type LambdaErrorCode = keyof typeof lambdaErrors;

export const lambdaError = errorFactory(lambdaErrors);

export function functionNotFound(arn: string) {
  return lambdaError('ResourceNotFoundException', `Function not found: ${arn}`);
}
