/**
 * @module iam
 * Identities: users, roles, access keys and inline policies of each account, the IAM and STS operations that
 * manage them (AWS Query protocol), and the identity side of every authorization check. Imports core, store,
 * policy and auth.
 */
export { createIdentityPolicySource, principalName, type IdentityLookup, type PrincipalName, type StoredIdentity } from './identity-policies.js';
export { createIamService, type IamService } from './service.js';
export { newAccountId } from './names.js';
export type { IamDeps, IamStore, WebIdentityDeps } from './deps.js';
export { SigningKeyCache } from './web-identity/signing-keys.js';
export { setStoredJwks, type SetJwksOutcome } from './web-identity/stored-jwks.js';
export { parseProviderArn, providerArn, providerKeyOf } from './web-identity/issuer-urls.js';
