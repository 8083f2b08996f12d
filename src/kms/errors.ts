import { errorFactory } from '../core/index.js';

/**
 * Every error code the KMS API answers with, and its HTTP status.
 * https://docs.aws.amazon.com/kms/latest/APIReference/CommonErrors.html and each operation's Errors section.
 */
export const kmsErrors = {
  AccessDeniedException: 400,
  AlreadyExistsException: 400,
  CustomKeyStoreNotFoundException: 400,
  DependencyTimeoutException: 503,
  DisabledException: 400,
  DryRunOperationException: 412,
  ExpiredImportTokenException: 400,
  IncorrectKeyException: 400,
  IncorrectKeyMaterialException: 400,
  InvalidAliasNameException: 400,
  InvalidArnException: 400,
  InvalidCiphertextException: 400,
  InvalidGrantIdException: 400,
  InvalidGrantTokenException: 400,
  InvalidImportTokenException: 400,
  InvalidKeyUsageException: 400,
  InvalidMarkerException: 400,
  KeyUnavailableException: 500,
  KMSInternalException: 500,
  KMSInvalidMacException: 400,
  KMSInvalidSignatureException: 400,
  KMSInvalidStateException: 400,
  LimitExceededException: 400,
  MalformedPolicyDocumentException: 400,
  NotAuthorizedException: 400,
  NotFoundException: 400,
  TagException: 400,
  UnsupportedOperationException: 400,
  ValidationException: 400,
} as const;

export type KmsErrorCode = keyof typeof kmsErrors;

export const kmsError = errorFactory(kmsErrors);

/** AWS's answer to a request with DryRun that would have succeeded. */
export function dryRunError() {
  return kmsError('DryRunOperationException', 'The request would have succeeded, but the DryRun option is set.');
}

/** Recipient (Nitro Enclaves attestation) is a valid member; Coffer has no enclaves to attest. */
export function recipientUnsupported() {
  return kmsError('UnsupportedOperationException', 'Recipient (Nitro Enclaves attestation) is not supported by this Coffer server.');
}
