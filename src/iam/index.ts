/**
 * @module iam
 * Identities: users, roles, groups, access keys, inline and managed policies and permissions boundaries of each account, the IAM and STS operations that
 * manage them (AWS Query protocol), and the identity side of every authorization check. Imports core, store,
 * policy and auth.
 */
export {
  createIdentityPolicySource,
  principalName,
  type IdentityLookup,
  type IdentitySourcePorts,
  type PrincipalName,
  type StoredIdentity,
} from './identity-policies.js';
export { createIamService, type IamService } from './service.js';
export type { ServiceRoleSession, ServiceRoleSessions } from './service-role-sessions.js';
export { newAccountId } from './names.js';
export { getManagedPolicyDocument } from './managed-policy-documents.js';
export { AWS_MANAGED_POLICIES, awsManagedPolicy, isAwsManagedPolicyArn, type AwsManagedPolicy } from './aws-managed-policies.js';
export type { AuthorizationMessageDecoder, IamDeps, IamStore, WebIdentityDeps } from './deps.js';
export { SigningKeyCache } from './web-identity/signing-keys.js';
export { setStoredJwks, type SetJwksOutcome } from './web-identity/stored-jwks.js';
export { parseProviderArn, providerArn, providerKeyOf } from './web-identity/issuer-urls.js';
