/**
 * @module iam
 * Identities: users, roles, groups, access keys and inline policies of each account, the IAM and STS operations that
 * manage them (AWS Query protocol), and the identity side of every authorization check. Imports core, store,
 * policy and auth.
 */
export { createIdentityPolicySource, principalName, type IdentityLookup, type PrincipalName, type StoredIdentity } from './identity-policies.js';
export { createIamService, type IamService } from './service.js';
export { newAccountId } from './names.js';
export type { IamDeps, IamStore } from './deps.js';
