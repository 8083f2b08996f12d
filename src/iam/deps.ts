import type { Credentials } from '../auth/index.js';
import type { Clock, Logger } from '../core/index.js';
import type { Authorizer, IdentityPolicySource } from '../policy/index.js';
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
  | 'updateIamRole'
  | 'renameIamUser'
  | 'getIamIdentity'
  | 'tagIamPrincipal'
  | 'untagIamPrincipal'
  | 'putInlinePolicy'
  | 'getInlinePolicy'
  | 'listInlinePolicyNames'
  | 'deleteInlinePolicy'
  | 'createIamGroup'
  | 'getIamGroup'
  | 'listIamGroups'
  | 'updateIamGroup'
  | 'deleteIamGroup'
  | 'addUserToGroup'
  | 'removeUserFromGroup'
  | 'getIamGroupWithMembers'
  | 'listIamGroupsForUser'
  | 'getAccessKey'
  | 'listUserAccessKeys'
  | 'updateUserAccessKeyStatus'
  | 'deleteUserAccessKey'
  | 'deleteRootAccessKey'
  | 'listRootAccessKeys'
  | 'createManagedPolicy'
  | 'getManagedPolicy'
  | 'listManagedPolicies'
  | 'deleteManagedPolicy'
  | 'createManagedPolicyVersion'
  | 'getManagedPolicyVersion'
  | 'listManagedPolicyVersions'
  | 'deleteManagedPolicyVersion'
  | 'setDefaultManagedPolicyVersion'
  | 'tagManagedPolicy'
  | 'untagManagedPolicy'
  | 'getManagedPolicyDocument'
  | 'attachManagedPolicy'
  | 'detachManagedPolicy'
  | 'listAttachedManagedPolicies'
  | 'listPolicyEntities'
  | 'listManagedPolicyUsage'
  | 'setPermissionsBoundary'
> &
  OidcProviderRepository;

/** What AssumeRoleWithWebIdentity needs besides the store: which issuers may be reached, and their key cache. */
export type WebIdentityDeps = {
  /** `--dev`: plain-http issuers on a loopback address are accepted (tests run their own issuer). */
  allowLoopbackHttpIssuers: boolean;
  signingKeys: SigningKeyCache;
};

/** Opens the encoded messages AccessDenied answers carry (implemented over crypto, wired by server/compose.ts). */
export interface AuthorizationMessageDecoder {
  /** The sealed failure, or undefined when the blob is not this server's, was changed, or has expired. */
  decode(blob: string, now: Date): { accountId: string; decodedMessage: string } | undefined;
}

export type IamDeps = {
  store: IamStore;
  credentials: Pick<Credentials, 'createUserAccessKey' | 'createLimitedRootAccessKey' | 'createSessionAccessKey'>;
  authorizer: Authorizer;
  /** The identity side the authorizer reads (the same object): policy simulation loads principals through it. */
  identities: IdentityPolicySource;
  /** Opens the encoded authorization failure messages (STS DecodeAuthorizationMessage). */
  authorizationMessages?: AuthorizationMessageDecoder;
  /** Warnings about stored policies (conditions on keys Coffer never sets). */
  logger?: Logger;
  /** Absent: https issuers only, with a key cache of the service's own. */
  webIdentity?: WebIdentityDeps;
  /** Real time for a token's exp/nbf/iat, like SigV4 freshness (default the system clock). */
  tokenClock?: Clock;
};
