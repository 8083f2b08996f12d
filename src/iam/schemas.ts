import { z } from 'zod';
import { ACCESS_KEY_STATUSES } from '../store/index.js';
import { awsBoolean, awsEnum, awsInt, awsList, awsString, sensitiveString } from '../core/index.js';

/**
 * One zod schema per IAM and STS operation, mirroring AWS's request shapes. Query bodies carry every value as a
 * string, so numbers are converted before their constraints are checked.
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_Operations.html
 */

/** A number member of a Query body: `"3600"` → 3600, then AWS's integer constraints. */
function queryInt(options: { min?: number; max?: number }) {
  return z.preprocess((value) => (typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value), awsInt(options));
}

/** A list member of a Query body: the SDKs send an empty list as `Tags=` (an empty string). */
function queryList<T extends z.ZodType>(item: T, options: { min?: number; max?: number } = {}) {
  return z.preprocess((value) => (value === '' ? [] : value), awsList(item, options));
}

/** A boolean member of a Query body: `"true"` / `"false"`. */
function queryBool() {
  return z.preprocess((value) => (value === 'true' ? true : value === 'false' ? false : value), awsBoolean());
}

const userName = awsString({ min: 1, max: 64, pattern: /^[\w+=,.@-]+$/ });
const roleName = awsString({ min: 1, max: 64, pattern: /^[\w+=,.@-]+$/ });
/** Group names and the names of existing users in group operations: 1–128 (botocore groupNameType, existingUserNameType). */
const groupName = awsString({ min: 1, max: 128, pattern: /^[\w+=,.@-]+$/ });
const existingUserName = awsString({ min: 1, max: 128, pattern: /^[\w+=,.@-]+$/ });
const policyName = awsString({ min: 1, max: 128, pattern: /^[\w+=,.@-]+$/ });
const policyDocument = awsString({ min: 1, max: 131072 });
const path = awsString({ min: 1, max: 512, pattern: /^(\/|\/[\u0021-\u007E]+\/)$/ });
const pathPrefix = awsString({ min: 1, max: 512, pattern: /^\/[\u0021-\u007E]*$/ });
const accessKeyId = awsString({ min: 16, max: 128, pattern: /^[\w]+$/ });
const tag = z.object({ Key: awsString({ min: 1, max: 128 }), Value: awsString({ max: 256 }) });
const tags = queryList(tag, { max: 50 });
const tagKeys = queryList(awsString({ min: 1, max: 128 }), { max: 50 });
const marker = awsString({ min: 1, max: 320 });
const maxItems = queryInt({ min: 1, max: 1000 });
const paging = { Marker: marker.optional(), MaxItems: maxItems.optional() };
const arn = awsString({ min: 20, max: 2048 });
const policyPath = awsString({ min: 1, max: 512, pattern: /^((\/[A-Za-z0-9.,+@=_-]+)*)\/$/ });
const policyVersionId = awsString({ pattern: /^v[1-9][0-9]*(\.[A-Za-z0-9-]*)?$/ });
const policyUsage = awsEnum(['PermissionsPolicy', 'PermissionsBoundary'] as const);

/** https://docs.aws.amazon.com/IAM/latest/APIReference/API_ContextEntry.html */
export const CONTEXT_KEY_TYPES = [
  'string', 'stringList', 'numeric', 'numericList', 'boolean', 'booleanList', 'ip', 'ipList', 'binary', 'binaryList', 'date', 'dateList',
] as const;
const resourceName = awsString({ min: 1, max: 2048 });
const simulationPolicies = queryList(policyDocument);
const contextEntry = z.object({
  ContextKeyName: awsString({ min: 5, max: 256 }).optional(),
  ContextKeyValues: queryList(z.string()).optional(),
  ContextKeyType: awsEnum(CONTEXT_KEY_TYPES).optional(),
});
/** The members SimulatePrincipalPolicy and SimulateCustomPolicy share. https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulateCustomPolicy.html */
const simulation = {
  PermissionsBoundaryPolicyInputList: simulationPolicies.optional(),
  ActionNames: queryList(awsString({ min: 3, max: 128 })),
  ResourceArns: queryList(resourceName).optional(),
  ResourcePolicy: policyDocument.optional(),
  ResourceOwner: resourceName.optional(),
  CallerArn: resourceName.optional(),
  ContextEntries: queryList(contextEntry).optional(),
  ResourceHandlingOption: awsString({ min: 1, max: 64 }).optional(),
  ...paging,
};
/** https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccountAuthorizationDetails.html */
export const AUTHORIZATION_DETAIL_ENTITIES = ['User', 'Role', 'Group', 'LocalManagedPolicy', 'AWSManagedPolicy'] as const;
const roleDescription = awsString({ max: 1000, pattern: /^[\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*$/ });
const oidcProviderArn = awsString({ min: 20, max: 2048 });
const oidcClientId = awsString({ min: 1, max: 255 });
const thumbprint = awsString({ min: 40, max: 40 });

export const iamSchemas = {
  SimulatePrincipalPolicy: z.object({ PolicySourceArn: awsString({ min: 20, max: 2048 }), PolicyInputList: simulationPolicies.optional(), ...simulation }),
  SimulateCustomPolicy: z.object({ PolicyInputList: simulationPolicies, ...simulation }),
  GetContextKeysForPrincipalPolicy: z.object({ PolicySourceArn: awsString({ min: 20, max: 2048 }), PolicyInputList: simulationPolicies.optional() }),
  GetContextKeysForCustomPolicy: z.object({ PolicyInputList: simulationPolicies }),
  UpdateRole: z.object({ RoleName: roleName, Description: roleDescription.optional(), MaxSessionDuration: queryInt({ min: 3600, max: 43200 }).optional() }),
  UpdateRoleDescription: z.object({ RoleName: roleName, Description: roleDescription }),
  UpdateUser: z.object({ UserName: awsString({ min: 1, max: 128, pattern: /^[\w+=,.@-]+$/ }), NewPath: path.optional(), NewUserName: userName.optional() }),
  GetAccountAuthorizationDetails: z.object({ Filter: queryList(awsEnum(AUTHORIZATION_DETAIL_ENTITIES)).optional(), ...paging }),
  CreateUser: z.object({ UserName: userName, Path: path.optional(), Tags: tags.optional(), PermissionsBoundary: arn.optional() }),
  GetUser: z.object({ UserName: userName.optional() }),
  ListUsers: z.object({ PathPrefix: pathPrefix.optional(), ...paging }),
  DeleteUser: z.object({ UserName: userName }),
  TagUser: z.object({ UserName: userName, Tags: tags }),
  ListUserTags: z.object({ UserName: userName, ...paging }),
  UntagUser: z.object({ UserName: userName, TagKeys: tagKeys }),
  CreateAccessKey: z.object({ UserName: userName.optional() }),
  DeleteAccessKey: z.object({ UserName: userName.optional(), AccessKeyId: accessKeyId }),
  ListAccessKeys: z.object({ UserName: userName.optional(), ...paging }),
  UpdateAccessKey: z.object({ UserName: userName.optional(), AccessKeyId: accessKeyId, Status: awsEnum(ACCESS_KEY_STATUSES) }),
  CreateRole: z.object({
    RoleName: roleName,
    Path: path.optional(),
    AssumeRolePolicyDocument: policyDocument,
    Description: awsString({ max: 1000 }).optional(),
    MaxSessionDuration: queryInt({ min: 3600, max: 43200 }).optional(),
    Tags: tags.optional(),
    PermissionsBoundary: arn.optional(),
  }),
  GetRole: z.object({ RoleName: roleName }),
  ListRoles: z.object({ PathPrefix: pathPrefix.optional(), ...paging }),
  DeleteRole: z.object({ RoleName: roleName }),
  UpdateAssumeRolePolicy: z.object({ RoleName: roleName, PolicyDocument: policyDocument }),
  ListRoleTags: z.object({ RoleName: roleName, ...paging }),
  TagRole: z.object({ RoleName: roleName, Tags: tags }),
  UntagRole: z.object({ RoleName: roleName, TagKeys: tagKeys }),
  PutUserPolicy: z.object({ UserName: userName, PolicyName: policyName, PolicyDocument: policyDocument }),
  GetUserPolicy: z.object({ UserName: userName, PolicyName: policyName }),
  ListUserPolicies: z.object({ UserName: userName, ...paging }),
  DeleteUserPolicy: z.object({ UserName: userName, PolicyName: policyName }),
  PutRolePolicy: z.object({ RoleName: roleName, PolicyName: policyName, PolicyDocument: policyDocument }),
  GetRolePolicy: z.object({ RoleName: roleName, PolicyName: policyName }),
  ListRolePolicies: z.object({ RoleName: roleName, ...paging }),
  DeleteRolePolicy: z.object({ RoleName: roleName, PolicyName: policyName }),
  // Managed policies: https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreatePolicy.html and the pages beside it.
  CreatePolicy: z.object({
    PolicyName: policyName,
    Path: policyPath.optional(),
    PolicyDocument: policyDocument,
    Description: awsString({ max: 1000 }).optional(),
    Tags: tags.optional(),
  }),
  GetPolicy: z.object({ PolicyArn: arn }),
  ListPolicies: z.object({
    Scope: awsEnum(['All', 'AWS', 'Local'] as const).optional(),
    OnlyAttached: queryBool().optional(),
    PathPrefix: policyPath.optional(),
    PolicyUsageFilter: policyUsage.optional(),
    ...paging,
  }),
  DeletePolicy: z.object({ PolicyArn: arn }),
  CreatePolicyVersion: z.object({ PolicyArn: arn, PolicyDocument: policyDocument, SetAsDefault: queryBool().optional() }),
  GetPolicyVersion: z.object({ PolicyArn: arn, VersionId: policyVersionId }),
  ListPolicyVersions: z.object({ PolicyArn: arn, ...paging }),
  DeletePolicyVersion: z.object({ PolicyArn: arn, VersionId: policyVersionId }),
  SetDefaultPolicyVersion: z.object({ PolicyArn: arn, VersionId: policyVersionId }),
  TagPolicy: z.object({ PolicyArn: arn, Tags: tags }),
  UntagPolicy: z.object({ PolicyArn: arn, TagKeys: tagKeys }),
  ListPolicyTags: z.object({ PolicyArn: arn, ...paging }),
  ListEntitiesForPolicy: z.object({
    PolicyArn: arn,
    EntityFilter: awsEnum(['User', 'Role', 'Group', 'LocalManagedPolicy', 'AWSManagedPolicy'] as const).optional(),
    PathPrefix: pathPrefix.optional(),
    PolicyUsageFilter: policyUsage.optional(),
    ...paging,
  }),
  AttachUserPolicy: z.object({ UserName: userName, PolicyArn: arn }),
  DetachUserPolicy: z.object({ UserName: userName, PolicyArn: arn }),
  AttachRolePolicy: z.object({ RoleName: roleName, PolicyArn: arn }),
  DetachRolePolicy: z.object({ RoleName: roleName, PolicyArn: arn }),
  ListAttachedUserPolicies: z.object({ UserName: userName, PathPrefix: policyPath.optional(), ...paging }),
  ListAttachedRolePolicies: z.object({ RoleName: roleName, PathPrefix: policyPath.optional(), ...paging }),
  AttachGroupPolicy: z.object({ GroupName: groupName, PolicyArn: arn }),
  DetachGroupPolicy: z.object({ GroupName: groupName, PolicyArn: arn }),
  ListAttachedGroupPolicies: z.object({ GroupName: groupName, PathPrefix: policyPath.optional(), ...paging }),
  PutUserPermissionsBoundary: z.object({ UserName: userName, PermissionsBoundary: arn }),
  DeleteUserPermissionsBoundary: z.object({ UserName: userName }),
  PutRolePermissionsBoundary: z.object({ RoleName: roleName, PermissionsBoundary: arn }),
  DeleteRolePermissionsBoundary: z.object({ RoleName: roleName }),
  CreateGroup: z.object({ GroupName: groupName, Path: path.optional() }),
  GetGroup: z.object({ GroupName: groupName, ...paging }),
  ListGroups: z.object({ PathPrefix: pathPrefix.optional(), ...paging }),
  UpdateGroup: z.object({ GroupName: groupName, NewGroupName: groupName.optional(), NewPath: path.optional() }),
  DeleteGroup: z.object({ GroupName: groupName }),
  AddUserToGroup: z.object({ GroupName: groupName, UserName: existingUserName }),
  RemoveUserFromGroup: z.object({ GroupName: groupName, UserName: existingUserName }),
  ListGroupsForUser: z.object({ UserName: existingUserName, ...paging }),
  PutGroupPolicy: z.object({ GroupName: groupName, PolicyName: policyName, PolicyDocument: policyDocument }),
  GetGroupPolicy: z.object({ GroupName: groupName, PolicyName: policyName }),
  ListGroupPolicies: z.object({ GroupName: groupName, ...paging }),
  DeleteGroupPolicy: z.object({ GroupName: groupName, PolicyName: policyName }),
  // OpenID Connect providers: the list limits (100 client ids, 5 thumbprints) are checked by the operations,
  // which answer LimitExceeded as IAM does rather than a validation error.
  CreateOpenIDConnectProvider: z.object({
    Url: awsString({ min: 1, max: 255 }),
    ClientIDList: queryList(oidcClientId).optional(),
    ThumbprintList: queryList(thumbprint).optional(),
    Tags: tags.optional(),
  }),
  GetOpenIDConnectProvider: z.object({ OpenIDConnectProviderArn: oidcProviderArn }),
  ListOpenIDConnectProviders: z.object({}),
  DeleteOpenIDConnectProvider: z.object({ OpenIDConnectProviderArn: oidcProviderArn }),
  AddClientIDToOpenIDConnectProvider: z.object({ OpenIDConnectProviderArn: oidcProviderArn, ClientID: oidcClientId }),
  RemoveClientIDFromOpenIDConnectProvider: z.object({ OpenIDConnectProviderArn: oidcProviderArn, ClientID: oidcClientId }),
  UpdateOpenIDConnectProviderThumbprint: z.object({ OpenIDConnectProviderArn: oidcProviderArn, ThumbprintList: queryList(thumbprint) }),
  TagOpenIDConnectProvider: z.object({ OpenIDConnectProviderArn: oidcProviderArn, Tags: tags }),
  UntagOpenIDConnectProvider: z.object({ OpenIDConnectProviderArn: oidcProviderArn, TagKeys: tagKeys }),
  ListOpenIDConnectProviderTags: z.object({ OpenIDConnectProviderArn: oidcProviderArn, ...paging }),
};

/** STS session tags: AWS's character rules (letters, spaces, digits and `_.:/=+-@`). */
const sessionTag = z.object({
  Key: awsString({ min: 1, max: 128, pattern: /^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$/u }),
  Value: awsString({ max: 256, pattern: /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u }),
});

/** https://docs.aws.amazon.com/STS/latest/APIReference/API_Operations.html */
export const stsSchemas = {
  GetCallerIdentity: z.object({}),
  AssumeRole: z.object({
    RoleArn: awsString({ min: 20, max: 2048 }),
    RoleSessionName: awsString({ min: 2, max: 64, pattern: /^[\w+=,.@-]*$/ }),
    DurationSeconds: queryInt({ min: 900, max: 43200 }).optional(),
    // No length limit of its own: the packed size limit applies (operations/session-attributes.ts). The cap only
    // bounds what is parsed.
    Policy: awsString({ min: 1, max: 131072, pattern: /^[\u0009\u000A\u000D\u0020-\u00FF]+$/ }).optional(),
    PolicyArns: queryList(z.object({ arn: awsString({ min: 20, max: 2048 }).optional() }), { max: 10 }).optional(),
    ExternalId: awsString({ min: 2, max: 1224, pattern: /^[\w+=,.@:/-]*$/ }).optional(),
    Tags: queryList(sessionTag, { max: 50 }).optional(),
    TransitiveTagKeys: queryList(sessionTag.shape.Key, { max: 50 }).optional(),
    // The pattern has no colon, so no value can begin with the reserved `aws:`.
    SourceIdentity: awsString({ min: 2, max: 64, pattern: /^[\w+=,.@-]*$/ }).optional(),
    SerialNumber: awsString({ min: 9, max: 256, pattern: /^[\w+=/:,.@-]*$/ }).optional(),
    TokenCode: awsString({ min: 6, max: 6, pattern: /^\d*$/ }).optional(),
    // Trusted context assertions (IAM Identity Center): accepted as a shape only to be refused clearly.
    ProvidedContexts: z.unknown().optional(),
  }),
  GetSessionToken: z.object({
    DurationSeconds: queryInt({ min: 900, max: 129600 }).optional(),
    SerialNumber: awsString({ min: 9, max: 256, pattern: /^[\w+=/:,.@-]*$/ }).optional(),
    TokenCode: awsString({ min: 6, max: 6, pattern: /^\d*$/ }).optional(),
  }),
  GetAccessKeyInfo: z.object({ AccessKeyId: accessKeyId }),
  DecodeAuthorizationMessage: z.object({ EncodedMessage: awsString({ min: 1, max: 10240 }) }),
  AssumeRoleWithWebIdentity: z.object({
    RoleArn: awsString({ min: 20, max: 2048 }),
    RoleSessionName: awsString({ min: 2, max: 64, pattern: /^[\w+=,.@-]*$/ }),
    // AWS's model bounds the token to 20000 characters (a longer one is a ValidationError, as on AWS); Sensitive
    // so it never reaches a log, an error message or the audit log.
    WebIdentityToken: sensitiveString({ min: 4, max: 20000 }),
    ProviderId: awsString({ min: 4, max: 2048 }).optional(),
    PolicyArns: queryList(z.object({ arn: awsString({ min: 20, max: 2048 }).optional() }), { max: 10 }).optional(),
    Policy: awsString({ min: 1, max: 2048, pattern: /^[\u0009\u000A\u000D\u0020-\u00FF]+$/ }).optional(),
    DurationSeconds: queryInt({ min: 900, max: 43200 }).optional(),
  }),
};

export type IamInput<K extends keyof typeof iamSchemas> = z.infer<(typeof iamSchemas)[K]>;
export type StsInput<K extends keyof typeof stsSchemas> = z.infer<(typeof stsSchemas)[K]>;
