import { errorFactory } from '../core/index.js';

/**
 * Every error code the Secrets Manager API answers with, and its HTTP status.
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/CommonErrors.html and each operation's Errors.
 */
export const secretsErrors = {
  DecryptionFailure: 400,
  EncryptionFailure: 400,
  InternalServiceError: 500,
  InvalidNextTokenException: 400,
  InvalidParameterException: 400,
  InvalidRequestException: 400,
  LimitExceededException: 400,
  MalformedPolicyDocumentException: 400,
  PreconditionNotMetException: 400,
  PublicPolicyException: 400,
  ResourceExistsException: 400,
  ResourceNotFoundException: 400,
  ValidationException: 400,
} as const;

export type SecretsErrorCode = keyof typeof secretsErrors;

export const secretsError = errorFactory(secretsErrors);

export const SECRET_NOT_FOUND = "Secrets Manager can't find the specified secret.";
export const MARKED_FOR_DELETION = "You can't perform this operation on the secret because it was marked for deletion.";
