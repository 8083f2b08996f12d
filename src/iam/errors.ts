import { errorFactory } from '../core/index.js';

/**
 * IAM's error codes and HTTP statuses (AWS Query: `<Error><Code>`).
 * https://docs.aws.amazon.com/IAM/latest/APIReference/CommonErrors.html and each operation's Errors section.
 */
export const iamErrors = {
  NoSuchEntity: 404,
  EntityAlreadyExists: 409,
  MalformedPolicyDocument: 400,
  LimitExceeded: 409,
  ValidationError: 400,
  DeleteConflict: 409,
  InvalidInput: 400,
  ConcurrentModification: 409,
  /** AttachUserPolicy & co: a policy that may not be attached (a service-linked role's). */
  PolicyNotAttachable: 400,
  ServiceFailure: 500,
} as const;

export const iamError = errorFactory(iamErrors);

/**
 * STS's error codes. https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html#API_AssumeRole_Errors
 */
export const stsErrors = {
  MalformedPolicyDocument: 400,
  PackedPolicyTooLarge: 400,
  RegionDisabledException: 403,
  ExpiredTokenException: 400,
  ValidationError: 400,
  AccessDenied: 403,
  /** https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html */
  InvalidParameterValue: 400,
  /** https://docs.aws.amazon.com/STS/latest/APIReference/API_DecodeAuthorizationMessage.html#API_DecodeAuthorizationMessage_Errors */
  InvalidAuthorizationMessageException: 400,
  InternalFailure: 500,
  /** AssumeRoleWithWebIdentity: https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html#API_AssumeRoleWithWebIdentity_Errors */
  InvalidIdentityToken: 400,
  IDPRejectedClaim: 403,
  IDPCommunicationError: 400,
} as const;

export const stsError = errorFactory(stsErrors);

/** https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html (defaults). */
export const IAM_LIMITS = {
  accessKeysPerUser: 2,
  tagsPerPrincipal: 50,
  tagsPerPolicy: 50,
  /** Versions of one customer managed policy, the default included. */
  versionsPerPolicy: 5,
  /** Managed policies attached to one user, role or group. */
  managedPoliciesPerEntity: 10,
  /** A managed policy's document, not counting white space. */
  managedPolicyCharacters: 6144,
  groupsPerAccount: 300,
  groupsPerUser: 10,
  /** https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html */
  oidcProvidersPerAccount: 100,
  clientIdsPerOidcProvider: 100,
  thumbprintsPerOidcProvider: 5,
} as const;
