import { z } from 'zod';
import { ACCESS_KEY_STATUSES } from '../store/index.js';
import { awsEnum, awsInt, awsList, awsString, sensitiveString } from '../core/index.js';

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

const userName = awsString({ min: 1, max: 64, pattern: /^[\w+=,.@-]+$/ });
const roleName = awsString({ min: 1, max: 64, pattern: /^[\w+=,.@-]+$/ });
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
const oidcProviderArn = awsString({ min: 20, max: 2048 });
const oidcClientId = awsString({ min: 1, max: 255 });
const thumbprint = awsString({ min: 40, max: 40 });

export const iamSchemas = {
  CreateUser: z.object({ UserName: userName, Path: path.optional(), Tags: tags.optional(), PermissionsBoundary: awsString().optional() }),
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
    PermissionsBoundary: awsString().optional(),
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

/** https://docs.aws.amazon.com/STS/latest/APIReference/API_Operations.html */
export const stsSchemas = {
  GetCallerIdentity: z.object({}),
  AssumeRole: z.object({
    RoleArn: awsString({ min: 20, max: 2048 }),
    RoleSessionName: awsString({ min: 2, max: 64, pattern: /^[\w+=,.@-]*$/ }),
    DurationSeconds: queryInt({ min: 900, max: 43200 }).optional(),
    Policy: awsString({ min: 1, max: 2048 }).optional(),
    PolicyArns: queryList(z.object({ arn: awsString({ min: 20, max: 2048 }).optional() }), { max: 10 }).optional(),
    ExternalId: awsString({ min: 2, max: 1224 }).optional(),
    Tags: tags.optional(),
    SourceIdentity: awsString({ min: 2, max: 64, pattern: /^[\w+=,.@-]*$/ }).optional(),
  }),
  GetSessionToken: z.object({
    DurationSeconds: queryInt({ min: 900, max: 129600 }).optional(),
    SerialNumber: awsString({ min: 9, max: 256, pattern: /^[\w+=/:,.@-]*$/ }).optional(),
    TokenCode: awsString({ min: 6, max: 6, pattern: /^\d*$/ }).optional(),
  }),
  GetAccessKeyInfo: z.object({ AccessKeyId: accessKeyId }),
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
