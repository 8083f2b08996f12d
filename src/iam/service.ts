import { operation, type OperationSpec, type QueryServiceTable } from '../core/index.js';
import type { CompiledPolicyCache } from '../policy/index.js';
import type { IamDeps } from './deps.js';
import { accessKeyOperations } from './operations/access-keys.js';
import { inlinePolicyOperations } from './operations/inline-policies.js';
import { oidcProviderOperations } from './operations/oidc-providers.js';
import { roleOperations } from './operations/roles.js';
import { refuseUserSession, STS_OPERATIONS_FOR_USER_SESSIONS, stsOperations } from './operations/sts.js';
import { userOperations } from './operations/users.js';
import { webIdentityOperations } from './operations/web-identity.js';
import { createPrincipalDirectory } from './principal-directory.js';
import { iamSchemas as iam, stsSchemas as sts } from './schemas.js';

/**
 * The IAM and STS services (AWS Query protocol). IAM operations on a user or role authorize `iam:<Operation>`
 * on its ARN themselves; ListUsers and ListRoles are authorized by the pipeline on `*`; AssumeRole checks
 * the role's trust policy itself; GetCallerIdentity needs no permission, as in AWS; AssumeRoleWithWebIdentity
 * comes unsigned and trusts only the verified token and the role's trust policy. `principals` is the
 * directory KMS asks whether a key policy's users and roles exist (kms's IamPrincipalDirectory port).
 */
export function createIamService(deps: IamDeps & { compiledPolicies: CompiledPolicyCache }) {
  const users = userOperations(deps);
  const keys = accessKeyOperations(deps);
  const roles = roleOperations(deps);
  const policies = inlinePolicyOperations(deps);
  const session = stsOperations(deps, deps.compiledPolicies);
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
      // The one operation that may come unsigned: the web identity token is its credential.
      AssumeRoleWithWebIdentity: operation(sts.AssumeRoleWithWebIdentity, webIdentity.assumeRoleWithWebIdentity, 'unsigned'),
    },
  };

  // Credentials from GetSessionToken call no IAM operation (no MFA here) and only some STS ones, as in AWS.
  guardUserSessions(iamTable.operations, () => true);
  guardUserSessions(stsTable.operations, (name) => !STS_OPERATIONS_FOR_USER_SESSIONS.has(name) && name !== 'GetSessionToken');
  assertOnlyUnsigned(stsTable, 'AssumeRoleWithWebIdentity');
  assertOnlyUnsigned(iamTable, undefined);

  return { iamTable, stsTable, principals: createPrincipalDirectory(deps.store) };
}

/** Wraps each operation `refused(name)` picks so a GetSessionToken session is refused before it runs. */
function guardUserSessions(operations: Record<string, OperationSpec>, refused: (name: string) => boolean): void {
  for (const [name, spec] of Object.entries(operations)) {
    if (!refused(name)) continue;
    const run = spec.run;
    operations[name] = {
      ...spec,
      run: (ctx, input) => {
        refuseUserSession(ctx, name);
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
