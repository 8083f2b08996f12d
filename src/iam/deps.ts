import type { Credentials } from '../auth/index.js';
import type { Clock, Logger } from '../core/index.js';
import type { Authorizer } from '../policy/index.js';
import type { IamRepository, OidcProviderRepository } from '../store/index.js';
import type { SigningKeyCache } from './web-identity/signing-keys.js';

/** The IAM repository's methods the IAM and STS operations call (auth's credentials insert the keys). */
export type IamStore = Pick<
  IamRepository,
  | 'createIamUser'
  | 'getIamUser'
  | 'listIamUsers'
  | 'deleteIamUser'
  | 'createIamRole'
  | 'getIamRole'
  | 'listIamRoles'
  | 'deleteIamRole'
  | 'updateAssumeRolePolicy'
  | 'tagIamPrincipal'
  | 'untagIamPrincipal'
  | 'putInlinePolicy'
  | 'getInlinePolicy'
  | 'listInlinePolicyNames'
  | 'deleteInlinePolicy'
  | 'getAccessKey'
  | 'listUserAccessKeys'
  | 'updateUserAccessKeyStatus'
  | 'deleteUserAccessKey'
  | 'deleteRootAccessKey'
  | 'listRootAccessKeys'
> &
  OidcProviderRepository;

/** What AssumeRoleWithWebIdentity needs besides the store: which issuers may be reached, and their key cache. */
export type WebIdentityDeps = {
  /** `--dev`: plain-http issuers on a loopback address are accepted (tests run their own issuer). */
  allowLoopbackHttpIssuers: boolean;
  signingKeys: SigningKeyCache;
};

export type IamDeps = {
  store: IamStore;
  credentials: Pick<Credentials, 'createUserAccessKey' | 'createLimitedRootAccessKey' | 'createSessionAccessKey'>;
  authorizer: Authorizer;
  /** Warnings about stored policies (conditions on keys Coffer never sets). */
  logger?: Logger;
  /** Absent: https issuers only, with a key cache of the service's own. */
  webIdentity?: WebIdentityDeps;
  /** Real time for a token's exp/nbf/iat, like SigV4 freshness (default the system clock). */
  tokenClock?: Clock;
};
