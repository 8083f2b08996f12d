import type { SecretRecord, Tag } from '../store/index.js';

/** Response shapes shared by DescribeSecret and ListSecrets. */
export function describeFields(secret: SecretRecord, tags: Tag[]) {
  return {
    ARN: secret.arn,
    Name: secret.name,
    Description: secret.description,
    KmsKeyId: secret.kmsKeyId,
    RotationEnabled: false,
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

export function stagesByVersion(versions: Array<{ versionId: string; stages: string[] }>): Record<string, string[]> {
  const result: Record<string, string[]> = {};
  for (const version of versions) if (version.stages.length > 0) result[version.versionId] = version.stages;
  return result;
}

/** LastAccessedDate is kept to the day, as AWS does. */
export function accessDay(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
}
