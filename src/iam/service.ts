import { operation, type OperationSpec, type QueryServiceTable } from '../core/index.js';
import type { CompiledPolicyCache } from '../policy/index.js';
import type { IamDeps } from './deps.js';
import { accessKeyOperations } from './operations/access-keys.js';
import { groupOperations } from './operations/groups.js';
import { inlinePolicyOperations } from './operations/inline-policies.js';
import { authorizationMessageOperations } from './operations/authorization-messages.js';
import { authorizationDetailsOperations } from './operations/authorization-details.js';
import { principalUpdateOperations } from './operations/principal-updates.js';
import { managedPolicyOperations } from './operations/managed-policies.js';
import { permissionsBoundaryOperations } from './operations/permissions-boundaries.js';
import { policyAttachmentOperations } from './operations/policy-attachments.js';
import { oidcProviderOperations } from './operations/oidc-providers.js';
import { roleOperations } from './operations/roles.js';
import { simulationOperations } from './operations/simulation.js';
import { refuseUserSession, STS_OPERATIONS_FOR_USER_SESSIONS, stsOperations } from './operations/sts.js';
import { userOperations } from './operations/users.js';
import { webIdentityOperations } from './operations/web-identity.js';
import { createPrincipalDirectory } from './principal-directory.js';
import { createServiceRoleSessions } from './service-role-sessions.js';
import { iamSchemas as iam, stsSchemas as sts } from './schemas.js';

/**
 * The IAM and STS services (AWS Query protocol). IAM operations on a user, role or group authorize
 * `iam:<Operation>` on its ARN themselves; ListUsers, ListRoles and ListGroups are authorized by the pipeline on `*`; AssumeRole checks
 * the role's trust policy itself; GetCallerIdentity needs no permission, as in AWS; AssumeRoleWithWebIdentity
 * comes unsigned and trusts only the verified token and the role's trust policy. `principals` is the
 * directory KMS asks whether a key policy's users and roles exist (kms's IamPrincipalDirectory port).
 */
export function createIamService(deps: IamDeps & { compiledPolicies: CompiledPolicyCache }) {
  const users = userOperations(deps);
  const keys = accessKeyOperations(deps);
  const roles = roleOperations(deps);
  const policies = inlinePolicyOperations(deps);
  const groups = groupOperations(deps);
  const session = stsOperations(deps, deps.compiledPolicies);
  const simulation = simulationOperations(deps);
  const updates = principalUpdateOperations(deps);
  const details = authorizationDetailsOperations(deps);
  const messages = authorizationMessageOperations(deps);
  const managed = managedPolicyOperations(deps);
  const attachments = policyAttachmentOperations(deps);
  const boundaries = permissionsBoundaryOperations(deps);
  const oidc = oidcProviderOperations(deps);
  const webIdentity = webIdentityOperations(deps, deps.compiledPolicies);

  const iamTable: QueryServiceTable = {
    targetPrefix: 'iam',
    signingName: 'iam',
    internalErrorCode: 'ServiceFailure',
    version: '2010-05-08',
    xmlNamespace: 'https://iam.amazonaws.com/doc/2010-05-08/',
    operations: {
      CreateUser: operation(iam.CreateUser, users.createUser, 'resource'),
      GetUser: operation(iam.GetUser, users.getUser, 'resource'),
      ListUsers: operation(iam.ListUsers, users.listUsers),
      DeleteUser: operation(iam.DeleteUser, users.deleteUser, 'resource'),
      TagUser: operation(iam.TagUser, users.tagUser, 'resource'),
      UntagUser: operation(iam.UntagUser, users.untagUser, 'resource'),
      ListUserTags: operation(iam.ListUserTags, users.listUserTags, 'resource'),
      CreateAccessKey: operation(iam.CreateAccessKey, keys.createAccessKey, 'resource'),
      ListAccessKeys: operation(iam.ListAccessKeys, keys.listAccessKeys, 'resource'),
      UpdateAccessKey: operation(iam.UpdateAccessKey, keys.updateAccessKey, 'resource'),
      DeleteAccessKey: operation(iam.DeleteAccessKey, keys.deleteAccessKey, 'resource'),
      CreateRole: operation(iam.CreateRole, roles.createRole, 'resource'),
      GetRole: operation(iam.GetRole, roles.getRole, 'resource'),
      ListRoles: operation(iam.ListRoles, roles.listRoles),
      DeleteRole: operation(iam.DeleteRole, roles.deleteRole, 'resource'),
      TagRole: operation(iam.TagRole, roles.tagRole, 'resource'),
      UntagRole: operation(iam.UntagRole, roles.untagRole, 'resource'),
      ListRoleTags: operation(iam.ListRoleTags, roles.listRoleTags, 'resource'),
      UpdateAssumeRolePolicy: operation(iam.UpdateAssumeRolePolicy, roles.updateAssumeRolePolicy, 'resource'),
      PutUserPolicy: operation(iam.PutUserPolicy, policies.putUserPolicy, 'resource'),
      GetUserPolicy: operation(iam.GetUserPolicy, policies.getUserPolicy, 'resource'),
      ListUserPolicies: operation(iam.ListUserPolicies, policies.listUserPolicies, 'resource'),
      DeleteUserPolicy: operation(iam.DeleteUserPolicy, policies.deleteUserPolicy, 'resource'),
      PutRolePolicy: operation(iam.PutRolePolicy, policies.putRolePolicy, 'resource'),
      GetRolePolicy: operation(iam.GetRolePolicy, policies.getRolePolicy, 'resource'),
      ListRolePolicies: operation(iam.ListRolePolicies, policies.listRolePolicies, 'resource'),
      DeleteRolePolicy: operation(iam.DeleteRolePolicy, policies.deleteRolePolicy, 'resource'),
      UpdateRole: operation(iam.UpdateRole, updates.updateRole, 'resource'),
      UpdateRoleDescription: operation(iam.UpdateRoleDescription, updates.updateRoleDescription, 'resource'),
      UpdateUser: operation(iam.UpdateUser, updates.updateUser, 'resource'),
      GetAccountAuthorizationDetails: operation(iam.GetAccountAuthorizationDetails, details.getAccountAuthorizationDetails),
      SimulatePrincipalPolicy: operation(iam.SimulatePrincipalPolicy, simulation.simulatePrincipalPolicy, 'resource'),
      SimulateCustomPolicy: operation(iam.SimulateCustomPolicy, simulation.simulateCustomPolicy),
      GetContextKeysForPrincipalPolicy: operation(iam.GetContextKeysForPrincipalPolicy, simulation.getContextKeysForPrincipalPolicy, 'resource'),
      GetContextKeysForCustomPolicy: operation(iam.GetContextKeysForCustomPolicy, simulation.getContextKeysForCustomPolicy),
      CreatePolicy: operation(iam.CreatePolicy, managed.createPolicy, 'resource'),
      GetPolicy: operation(iam.GetPolicy, managed.getPolicy, 'resource'),
      ListPolicies: operation(iam.ListPolicies, managed.listPolicies),
      DeletePolicy: operation(iam.DeletePolicy, managed.deletePolicy, 'resource'),
      CreatePolicyVersion: operation(iam.CreatePolicyVersion, managed.createPolicyVersion, 'resource'),
      GetPolicyVersion: operation(iam.GetPolicyVersion, managed.getPolicyVersion, 'resource'),
      ListPolicyVersions: operation(iam.ListPolicyVersions, managed.listPolicyVersions, 'resource'),
      DeletePolicyVersion: operation(iam.DeletePolicyVersion, managed.deletePolicyVersion, 'resource'),
      SetDefaultPolicyVersion: operation(iam.SetDefaultPolicyVersion, managed.setDefaultPolicyVersion, 'resource'),
      TagPolicy: operation(iam.TagPolicy, managed.tagPolicy, 'resource'),
      UntagPolicy: operation(iam.UntagPolicy, managed.untagPolicy, 'resource'),
      ListPolicyTags: operation(iam.ListPolicyTags, managed.listPolicyTags, 'resource'),
      ListEntitiesForPolicy: operation(iam.ListEntitiesForPolicy, managed.listEntitiesForPolicy, 'resource'),
      AttachUserPolicy: operation(iam.AttachUserPolicy, attachments.attachUserPolicy, 'resource'),
      DetachUserPolicy: operation(iam.DetachUserPolicy, attachments.detachUserPolicy, 'resource'),
      ListAttachedUserPolicies: operation(iam.ListAttachedUserPolicies, attachments.listAttachedUserPolicies, 'resource'),
      AttachRolePolicy: operation(iam.AttachRolePolicy, attachments.attachRolePolicy, 'resource'),
      DetachRolePolicy: operation(iam.DetachRolePolicy, attachments.detachRolePolicy, 'resource'),
      ListAttachedRolePolicies: operation(iam.ListAttachedRolePolicies, attachments.listAttachedRolePolicies, 'resource'),
      AttachGroupPolicy: operation(iam.AttachGroupPolicy, attachments.attachGroupPolicy, 'resource'),
      DetachGroupPolicy: operation(iam.DetachGroupPolicy, attachments.detachGroupPolicy, 'resource'),
      ListAttachedGroupPolicies: operation(iam.ListAttachedGroupPolicies, attachments.listAttachedGroupPolicies, 'resource'),
      PutUserPermissionsBoundary: operation(iam.PutUserPermissionsBoundary, boundaries.putUserPermissionsBoundary, 'resource'),
      DeleteUserPermissionsBoundary: operation(iam.DeleteUserPermissionsBoundary, boundaries.deleteUserPermissionsBoundary, 'resource'),
      PutRolePermissionsBoundary: operation(iam.PutRolePermissionsBoundary, boundaries.putRolePermissionsBoundary, 'resource'),
      DeleteRolePermissionsBoundary: operation(iam.DeleteRolePermissionsBoundary, boundaries.deleteRolePermissionsBoundary, 'resource'),
      CreateGroup: operation(iam.CreateGroup, groups.createGroup, 'resource'),
      GetGroup: operation(iam.GetGroup, groups.getGroup, 'resource'),
      ListGroups: operation(iam.ListGroups, groups.listGroups),
      UpdateGroup: operation(iam.UpdateGroup, groups.updateGroup, 'resource'),
      DeleteGroup: operation(iam.DeleteGroup, groups.deleteGroup, 'resource'),
      AddUserToGroup: operation(iam.AddUserToGroup, groups.addUserToGroup, 'resource'),
      RemoveUserFromGroup: operation(iam.RemoveUserFromGroup, groups.removeUserFromGroup, 'resource'),
      ListGroupsForUser: operation(iam.ListGroupsForUser, groups.listGroupsForUser, 'resource'),
      PutGroupPolicy: operation(iam.PutGroupPolicy, policies.putGroupPolicy, 'resource'),
      GetGroupPolicy: operation(iam.GetGroupPolicy, policies.getGroupPolicy, 'resource'),
      ListGroupPolicies: operation(iam.ListGroupPolicies, policies.listGroupPolicies, 'resource'),
      DeleteGroupPolicy: operation(iam.DeleteGroupPolicy, policies.deleteGroupPolicy, 'resource'),
      CreateOpenIDConnectProvider: operation(iam.CreateOpenIDConnectProvider, oidc.createOpenIDConnectProvider, 'resource'),
      GetOpenIDConnectProvider: operation(iam.GetOpenIDConnectProvider, oidc.getOpenIDConnectProvider, 'resource'),
      ListOpenIDConnectProviders: operation(iam.ListOpenIDConnectProviders, oidc.listOpenIDConnectProviders),
      DeleteOpenIDConnectProvider: operation(iam.DeleteOpenIDConnectProvider, oidc.deleteOpenIDConnectProvider, 'resource'),
      AddClientIDToOpenIDConnectProvider: operation(iam.AddClientIDToOpenIDConnectProvider, oidc.addClientIDToOpenIDConnectProvider, 'resource'),
      RemoveClientIDFromOpenIDConnectProvider: operation(iam.RemoveClientIDFromOpenIDConnectProvider, oidc.removeClientIDFromOpenIDConnectProvider, 'resource'),
      UpdateOpenIDConnectProviderThumbprint: operation(iam.UpdateOpenIDConnectProviderThumbprint, oidc.updateOpenIDConnectProviderThumbprint, 'resource'),
      TagOpenIDConnectProvider: operation(iam.TagOpenIDConnectProvider, oidc.tagOpenIDConnectProvider, 'resource'),
      UntagOpenIDConnectProvider: operation(iam.UntagOpenIDConnectProvider, oidc.untagOpenIDConnectProvider, 'resource'),
      ListOpenIDConnectProviderTags: operation(iam.ListOpenIDConnectProviderTags, oidc.listOpenIDConnectProviderTags, 'resource'),
    },
  };

  const stsTable: QueryServiceTable = {
    targetPrefix: 'sts',
    signingName: 'sts',
    internalErrorCode: 'InternalFailure',
    version: '2011-06-15',
    xmlNamespace: 'https://sts.amazonaws.com/doc/2011-06-15/',
    operations: {
      GetCallerIdentity: operation(sts.GetCallerIdentity, session.getCallerIdentity, 'none'),
      AssumeRole: operation(sts.AssumeRole, session.assumeRole, 'resource'),
      GetSessionToken: operation(sts.GetSessionToken, session.getSessionToken, 'none'),
      GetAccessKeyInfo: operation(sts.GetAccessKeyInfo, session.getAccessKeyInfo),
      DecodeAuthorizationMessage: operation(sts.DecodeAuthorizationMessage, messages.decodeAuthorizationMessage),
      // The one operation that may come unsigned: the web identity token is its credential.
      AssumeRoleWithWebIdentity: operation(sts.AssumeRoleWithWebIdentity, webIdentity.assumeRoleWithWebIdentity, 'unsigned'),
    },
  };

  // Credentials from GetSessionToken call no IAM operation (no MFA here) and only some STS ones, as in AWS.
  guardUserSessions(iamTable.operations, 'iam', () => true);
  guardUserSessions(stsTable.operations, 'sts', (name) => !STS_OPERATIONS_FOR_USER_SESSIONS.has(name) && name !== 'GetSessionToken');
  assertOnlyUnsigned(stsTable, 'AssumeRoleWithWebIdentity');
  assertOnlyUnsigned(iamTable, undefined);

  return {
    iamTable,
    stsTable,
    principals: createPrincipalDirectory(deps.store),
    /** Role sessions AWS services start for themselves (Lambda's execution roles), for compose.ts to hand out. */
    serviceRoles: createServiceRoleSessions(deps),
  };
}

/** Wraps each operation `refused(name)` picks so a GetSessionToken session is refused before it runs. */
function guardUserSessions(operations: Record<string, OperationSpec>, service: 'iam' | 'sts', refused: (name: string) => boolean): void {
  for (const [name, spec] of Object.entries(operations)) {
    if (!refused(name)) continue;
    const run = spec.run;
    operations[name] = {
      ...spec,
      run: (ctx, input) => {
        refuseUserSession(ctx, name, service);
        return run(ctx, input);
      },
    };
  }
}

/** The unsigned exception stays exactly one operation: a second one would be an unauthenticated entry point. */
function assertOnlyUnsigned(table: QueryServiceTable, allowed: string | undefined): void {
  for (const [name, spec] of Object.entries(table.operations)) {
    if (spec.access === 'unsigned' && name !== allowed) throw new Error(`${table.signingName}:${name} may not be unsigned`);
  }
}

export type IamService = ReturnType<typeof createIamService>;
