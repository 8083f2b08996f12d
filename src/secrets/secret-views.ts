import type { SecretRecord, Tag } from '../store/index.js';

/**
 * Response shapes shared by DescribeSecret and ListSecrets. Only members with a value are returned:
 * RotationEnabled is omitted for a secret never configured for rotation, KmsKeyId for the default key.
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DescribeSecret.html
 */
export function describeFields(secret: SecretRecord, tags: Tag[]) {
  return {
    ARN: secret.arn,
    Name: secret.name,
    Description: secret.description,
    KmsKeyId: secret.kmsKeyId,
    RotationEnabled: secret.rotationEnabled,
    RotationLambdaARN: secret.rotationLambdaArn,
    RotationRules: secret.rotationRules,
    LastRotatedDate: secret.lastRotatedDate,
    NextRotationDate: secret.rotationEnabled ? secret.nextRotationDate : undefined,
    LastChangedDate: secret.lastChangedDate,
    LastAccessedDate: secret.lastAccessedDate,
    DeletedDate: secret.deletedDate,
    Tags: tags.length > 0 ? tags.map(wireTag) : undefined,
    OwningService: secret.owningService,
    CreatedDate: secret.createdDate,
    PrimaryRegion: secret.primaryRegion,
  };
}

export function wireTag(tag: Tag) {
  return { Key: tag.TagKey, Value: tag.TagValue };
}

/** versionId → labels of the labelled versions; undefined when there are none (a secret created without a value). */
export function stagesByVersion(versions: Array<{ versionId: string; stages: string[] }>): Record<string, string[]> | undefined {
  const result: Record<string, string[]> = {};
  for (const version of versions) if (version.stages.length > 0) result[version.versionId] = version.stages;
  return Object.keys(result).length > 0 ? result : undefined;
}

/** LastAccessedDate is kept to the day, as AWS does. */
export function accessDay(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
}
