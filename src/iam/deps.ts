import type { Credentials } from '../auth/index.js';
import type { Logger } from '../core/index.js';
import type { Authorizer } from '../policy/index.js';
import type { IamRepository } from '../store/index.js';

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
>;

export type IamDeps = {
  store: IamStore;
  credentials: Pick<Credentials, 'createUserAccessKey' | 'createLimitedRootAccessKey' | 'createSessionAccessKey'>;
  authorizer: Authorizer;
  /** Warnings about stored policies (conditions on keys Coffer never sets). */
  logger?: Logger;
};
