import { operation, type QueryServiceTable } from '../core/index.js';
import type { CompiledPolicyCache } from '../policy/index.js';
import type { IamDeps } from './deps.js';
import { accessKeyOperations } from './operations/access-keys.js';
import { inlinePolicyOperations } from './operations/inline-policies.js';
import { roleOperations } from './operations/roles.js';
import { stsOperations } from './operations/sts.js';
import { userOperations } from './operations/users.js';
import { iamSchemas as iam, stsSchemas as sts } from './schemas.js';

/**
 * The IAM and STS services (AWS Query protocol). IAM operations are authorized by the pipeline as
 * `iam:<Operation>` on `*`; AssumeRole checks the role's trust policy itself; GetCallerIdentity needs no
 * permission, as in AWS.
 */
export function createIamService(deps: IamDeps & { compiledPolicies: CompiledPolicyCache }) {
  const users = userOperations(deps);
  const keys = accessKeyOperations(deps);
  const roles = roleOperations(deps);
  const policies = inlinePolicyOperations(deps);
  const session = stsOperations(deps, deps.compiledPolicies);

  const iamTable: QueryServiceTable = {
    targetPrefix: 'iam',
    signingName: 'iam',
    internalErrorCode: 'ServiceFailure',
    version: '2010-05-08',
    xmlNamespace: 'https://iam.amazonaws.com/doc/2010-05-08/',
    operations: {
      CreateUser: operation(iam.CreateUser, users.createUser),
      GetUser: operation(iam.GetUser, users.getUser),
      ListUsers: operation(iam.ListUsers, users.listUsers),
      DeleteUser: operation(iam.DeleteUser, users.deleteUser),
      TagUser: operation(iam.TagUser, users.tagUser),
      UntagUser: operation(iam.UntagUser, users.untagUser),
      CreateAccessKey: operation(iam.CreateAccessKey, keys.createAccessKey),
      ListAccessKeys: operation(iam.ListAccessKeys, keys.listAccessKeys),
      UpdateAccessKey: operation(iam.UpdateAccessKey, keys.updateAccessKey),
      DeleteAccessKey: operation(iam.DeleteAccessKey, keys.deleteAccessKey),
      CreateRole: operation(iam.CreateRole, roles.createRole),
      GetRole: operation(iam.GetRole, roles.getRole),
      ListRoles: operation(iam.ListRoles, roles.listRoles),
      DeleteRole: operation(iam.DeleteRole, roles.deleteRole),
      TagRole: operation(iam.TagRole, roles.tagRole),
      UntagRole: operation(iam.UntagRole, roles.untagRole),
      PutUserPolicy: operation(iam.PutUserPolicy, policies.putUserPolicy),
      GetUserPolicy: operation(iam.GetUserPolicy, policies.getUserPolicy),
      ListUserPolicies: operation(iam.ListUserPolicies, policies.listUserPolicies),
      DeleteUserPolicy: operation(iam.DeleteUserPolicy, policies.deleteUserPolicy),
      PutRolePolicy: operation(iam.PutRolePolicy, policies.putRolePolicy),
      GetRolePolicy: operation(iam.GetRolePolicy, policies.getRolePolicy),
      ListRolePolicies: operation(iam.ListRolePolicies, policies.listRolePolicies),
      DeleteRolePolicy: operation(iam.DeleteRolePolicy, policies.deleteRolePolicy),
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
    },
  };

  return { iamTable, stsTable };
}

export type IamService = ReturnType<typeof createIamService>;
