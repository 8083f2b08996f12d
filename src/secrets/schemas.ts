import { z } from 'zod';
import { awsBlob, awsBoolean, awsEnum, awsInt, awsList, awsString, isStringWithin, markSensitive, Sensitive, sensitiveString, type LengthRange } from '../core/index.js';

/**
 * One zod schema per Secrets Manager operation, mirroring AWS's request shapes.
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_Operations.html
 */

export const FILTER_KEYS = ['description', 'name', 'tag-key', 'tag-value', 'primary-region', 'owning-service', 'all'] as const;
export const SORT_ORDERS = ['asc', 'desc'] as const;
export const SORT_BY = ['created-date', 'last-accessed-date', 'last-changed-date', 'name'] as const;

const SECRET_ID_LENGTH: LengthRange = { min: 1, max: 2048 };
const VERSION_ID_LENGTH: LengthRange = { min: 32, max: 64 };
const VERSION_STAGE_LENGTH: LengthRange = { min: 1, max: 256 };
const secretId = awsString(SECRET_ID_LENGTH);
const secretName = awsString({ min: 1, max: 512 });
const clientRequestToken = awsString({ min: 32, max: 64 });
const versionId = awsString(VERSION_ID_LENGTH);
const versionStage = awsString(VERSION_STAGE_LENGTH);
const description = awsString({ max: 2048 });
const kmsKeyId = awsString({ max: 2048 });
const secretString = sensitiveString({ min: 1, max: 65536 });
const secretBinary = markSensitive(awsBlob({ min: 1, max: 65536 }).transform((value) => new Sensitive(value)));
const tag = z.object({ Key: awsString({ min: 1, max: 128 }), Value: awsString({ max: 256 }) });
const tags = awsList(tag);
const filter = z.object({
  Key: awsEnum(FILTER_KEYS).optional(),
  Values: awsList(awsString({ max: 512, pattern: /^!?[a-zA-Z0-9 :_@/+=.\-!]*$/ }), { min: 1, max: 10 }).optional(),
});
const filters = awsList(filter, { max: 10 });
const nextToken = awsString({ min: 1, max: 4096 });
const resourcePolicy = awsString({ min: 1, max: 20480 });
const regionName = awsString({ min: 1, max: 128, pattern: /^([a-z]+-)+\d+$/ });
const replicaRegions = awsList(z.object({ Region: regionName.optional(), KmsKeyId: kmsKeyId.optional() }), { min: 1 });

export const schemas = {
  CreateSecret: z.object({
    Name: secretName,
    ClientRequestToken: clientRequestToken.optional(),
    Description: description.optional(),
    KmsKeyId: kmsKeyId.optional(),
    SecretBinary: secretBinary.optional(),
    SecretString: secretString.optional(),
    Tags: tags.optional(),
    AddReplicaRegions: replicaRegions.optional(),
    ForceOverwriteReplicaSecret: awsBoolean().optional(),
    Type: awsString({ min: 0, max: 256 }).optional(),
  }),
  GetSecretValue: z.object({ SecretId: secretId, VersionId: versionId.optional(), VersionStage: versionStage.optional() }),
  BatchGetSecretValue: z.object({
    SecretIdList: awsList(secretId, { min: 1, max: 20 }).optional(),
    Filters: filters.optional(),
    MaxResults: awsInt({ min: 1, max: 20 }).optional(),
    NextToken: nextToken.optional(),
  }),
  PutSecretValue: z.object({
    SecretId: secretId,
    ClientRequestToken: clientRequestToken.optional(),
    SecretBinary: secretBinary.optional(),
    SecretString: secretString.optional(),
    VersionStages: awsList(versionStage, { min: 1, max: 20 }).optional(),
    RotationToken: awsString({ min: 36, max: 256 }).optional(),
  }),
  UpdateSecret: z.object({
    SecretId: secretId,
    ClientRequestToken: clientRequestToken.optional(),
    Description: description.optional(),
    KmsKeyId: kmsKeyId.optional(),
    SecretBinary: secretBinary.optional(),
    SecretString: secretString.optional(),
    Type: awsString({ min: 0, max: 256 }).optional(),
  }),
  DescribeSecret: z.object({ SecretId: secretId }),
  ListSecrets: z.object({
    IncludePlannedDeletion: awsBoolean().optional(),
    MaxResults: awsInt({ min: 1, max: 100 }).optional(),
    NextToken: nextToken.optional(),
    Filters: filters.optional(),
    SortOrder: awsEnum(SORT_ORDERS).optional(),
    SortBy: awsEnum(SORT_BY).optional(),
  }),
  ListSecretVersionIds: z.object({
    SecretId: secretId,
    MaxResults: awsInt({ min: 1, max: 100 }).optional(),
    NextToken: nextToken.optional(),
    IncludeDeprecated: awsBoolean().optional(),
  }),
  UpdateSecretVersionStage: z.object({
    SecretId: secretId,
    VersionStage: versionStage,
    RemoveFromVersionId: versionId.optional(),
    MoveToVersionId: versionId.optional(),
  }),
  DeleteSecret: z.object({
    SecretId: secretId,
    RecoveryWindowInDays: awsInt().optional(),
    ForceDeleteWithoutRecovery: awsBoolean().optional(),
  }),
  RestoreSecret: z.object({ SecretId: secretId }),
  TagResource: z.object({ SecretId: secretId, Tags: tags }),
  UntagResource: z.object({ SecretId: secretId, TagKeys: awsList(awsString({ min: 1, max: 128 })) }),
  RotateSecret: z.object({
    SecretId: secretId,
    ClientRequestToken: clientRequestToken.optional(),
    RotationLambdaARN: awsString({ max: 2048 }).optional(),
    RotationRules: z
      .object({
        AutomaticallyAfterDays: awsInt({ min: 1, max: 1000 }).optional(),
        Duration: awsString({ min: 2, max: 3, pattern: /^[0-9h]+$/ }).optional(),
        ScheduleExpression: awsString({ min: 1, max: 256, pattern: /^[0-9A-Za-z\(\)#\?\*\-\/, ]+$/ }).optional(),
      })
      .optional(),
    RotateImmediately: awsBoolean().optional(),
  }),
  CancelRotateSecret: z.object({ SecretId: secretId }),
  GetResourcePolicy: z.object({ SecretId: secretId }),
  PutResourcePolicy: z.object({ SecretId: secretId, ResourcePolicy: resourcePolicy, BlockPublicPolicy: awsBoolean().optional() }),
  DeleteResourcePolicy: z.object({ SecretId: secretId }),
  ValidateResourcePolicy: z.object({ SecretId: secretId.optional(), ResourcePolicy: resourcePolicy }),
  ReplicateSecretToRegions: z.object({
    SecretId: secretId,
    AddReplicaRegions: replicaRegions,
    ForceOverwriteReplicaSecret: awsBoolean().optional(),
  }),
  RemoveRegionsFromReplication: z.object({ SecretId: secretId, RemoveReplicaRegions: awsList(regionName, { min: 1 }) }),
  StopReplicationToReplica: z.object({ SecretId: secretId }),
  GetRandomPassword: z.object({
    PasswordLength: awsInt({ min: 1, max: 4096 }).optional(),
    ExcludeCharacters: awsString({ max: 4096 }).optional(),
    ExcludeNumbers: awsBoolean().optional(),
    ExcludePunctuation: awsBoolean().optional(),
    ExcludeUppercase: awsBoolean().optional(),
    ExcludeLowercase: awsBoolean().optional(),
    IncludeSpace: awsBoolean().optional(),
    RequireEachIncludedType: awsBoolean().optional(),
  }),
} as const;

export type SecretsSchemas = typeof schemas;
export type SecretsInput<Name extends keyof SecretsSchemas> = z.output<SecretsSchemas[Name]>;
export type FilterInput = z.output<typeof filter>;
export type TagInput = z.output<typeof tag>;

/**
 * GetSecretValue's input parsed by hand (OperationSpec.parseCommon): SecretId, VersionId and VersionStage as
 * well-formed strings; the same object `schemas.GetSecretValue` gives. Any other member or value goes to the schema.
 */
export function parseCommonGetSecretValue(input: Record<string, unknown>): SecretsInput<'GetSecretValue'> | undefined {
  let secretId: string | undefined;
  let versionId: string | undefined;
  let versionStage: string | undefined;
  for (const member in input) {
    if (!Object.hasOwn(input, member)) return undefined;
    const value = input[member];
    if (member === 'SecretId' && isStringWithin(value, SECRET_ID_LENGTH)) secretId = value;
    else if (member === 'VersionId' && isStringWithin(value, VERSION_ID_LENGTH)) versionId = value;
    else if (member === 'VersionStage' && isStringWithin(value, VERSION_STAGE_LENGTH)) versionStage = value;
    else return undefined;
  }
  if (secretId === undefined) return undefined;
  if (versionId === undefined && versionStage === undefined) return { SecretId: secretId };
  const parsed: SecretsInput<'GetSecretValue'> = { SecretId: secretId };
  if (versionId !== undefined) parsed.VersionId = versionId;
  if (versionStage !== undefined) parsed.VersionStage = versionStage;
  return parsed;
}
