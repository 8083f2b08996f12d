import { errorFactory } from '../core/index.js';

/**
 * Every error code the Parameter Store operations answer with, and its HTTP status: each operation's Errors in
 * https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_Operations.html
 */
export const ssmErrors = {
  HierarchyLevelLimitExceededException: 400,
  HierarchyTypeMismatchException: 400,
  IncompatiblePolicyException: 400,
  InternalServerError: 500,
  InvalidAllowedPatternException: 400,
  InvalidFilterKey: 400,
  InvalidFilterOption: 400,
  InvalidFilterValue: 400,
  InvalidKeyId: 400,
  InvalidNextToken: 400,
  InvalidPolicyAttributeException: 400,
  InvalidPolicyTypeException: 400,
  InvalidResourceId: 400,
  InvalidResourceType: 400,
  ParameterAlreadyExists: 400,
  ParameterLimitExceeded: 400,
  ParameterMaxVersionLimitExceeded: 400,
  ParameterNotFound: 400,
  ParameterPatternMismatchException: 400,
  ParameterVersionLabelLimitExceeded: 400,
  ParameterVersionNotFound: 400,
  PoliciesLimitExceededException: 400,
  TooManyTagsError: 400,
  UnsupportedParameterType: 400,
  ValidationException: 400,
} as const;

export type SsmErrorCode = keyof typeof ssmErrors;

export const ssmError = errorFactory(ssmErrors);

export function parameterNotFound(name: string) {
  return ssmError('ParameterNotFound', `Parameter ${name} not found.`);
}
