import { z } from 'zod';
import { awsBoolean, awsEnum, awsInt, awsList, awsString, sensitiveString } from '../core/index.js';
import { TIERS } from './parameter-rules.js';

/**
 * One zod schema per Parameter Store operation, mirroring AWS's request shapes (botocore's ssm model).
 * https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_Operations.html
 */

export const PARAMETER_TYPES = ['String', 'StringList', 'SecureString'] as const;
export const RESOURCE_TYPES = ['Document', 'ManagedInstance', 'MaintenanceWindow', 'Parameter', 'PatchBaseline', 'OpsItem', 'OpsMetadata', 'Automation', 'Association'] as const;

const name = awsString({ min: 1, max: 2048 });
const names = awsList(name, { min: 1, max: 10 });
const version = awsInt({ min: 1 });
const labels = awsList(awsString({ min: 1, max: 100 }), { min: 1, max: 10 });
const tagText = /^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$/u;
const tag = z.object({ Key: awsString({ min: 1, max: 128, pattern: tagText }), Value: awsString({ max: 256, pattern: tagText }) });
const tags = awsList(tag, { max: 1000 });
const nextToken = awsString({ min: 1, max: 4096 });
const stringFilter = z.object({
  Key: awsString({ min: 1, max: 132, pattern: /^(tag:.+|Name|Type|KeyId|Path|Label|Tier|DataType)$/ }),
  Option: awsString({ min: 1, max: 10 }).optional(),
  Values: awsList(awsString({ min: 1, max: 1024 }), { min: 1, max: 50 }).optional(),
});
const stringFilters = awsList(stringFilter);
const legacyFilter = z.object({
  Key: awsEnum(['Name', 'Type', 'KeyId'] as const),
  Values: awsList(awsString({ min: 1, max: 1024 }), { min: 1, max: 50 }),
});
const resourceType = awsEnum(RESOURCE_TYPES);
const resourceId = awsString({ min: 1, max: 2048 });

export const schemas = {
  PutParameter: z.object({
    Name: name,
    Description: awsString({ max: 1024 }).optional(),
    // AWS's model gives no length; the tier's limit (4 KB / 8 KB) is checked once the tier is known.
    Value: sensitiveString({ min: 1 }),
    Type: awsEnum(PARAMETER_TYPES).optional(),
    KeyId: awsString({ min: 1, max: 256, pattern: /^([a-zA-Z0-9:/_-]+)$/ }).optional(),
    Overwrite: awsBoolean().optional(),
    AllowedPattern: awsString({ max: 1024 }).optional(),
    Tags: tags.optional(),
    Tier: awsEnum(TIERS).optional(),
    Policies: awsString({ min: 1, max: 4096 }).optional(),
    DataType: awsString({ max: 128 }).optional(),
  }),
  GetParameter: z.object({ Name: name, WithDecryption: awsBoolean().optional() }),
  GetParameters: z.object({ Names: names, WithDecryption: awsBoolean().optional() }),
  GetParametersByPath: z.object({
    Path: name,
    Recursive: awsBoolean().optional(),
    ParameterFilters: stringFilters.optional(),
    WithDecryption: awsBoolean().optional(),
    MaxResults: awsInt({ min: 1, max: 10 }).optional(),
    NextToken: nextToken.optional(),
  }),
  GetParameterHistory: z.object({
    Name: name,
    WithDecryption: awsBoolean().optional(),
    MaxResults: awsInt({ min: 1, max: 50 }).optional(),
    NextToken: nextToken.optional(),
  }),
  DeleteParameter: z.object({ Name: name }),
  DeleteParameters: z.object({ Names: names }),
  DescribeParameters: z.object({
    Filters: awsList(legacyFilter).optional(),
    ParameterFilters: stringFilters.optional(),
    MaxResults: awsInt({ min: 1, max: 50 }).optional(),
    NextToken: nextToken.optional(),
    Shared: awsBoolean().optional(),
  }),
  LabelParameterVersion: z.object({ Name: name, ParameterVersion: version.optional(), Labels: labels }),
  UnlabelParameterVersion: z.object({ Name: name, ParameterVersion: version, Labels: labels }),
  AddTagsToResource: z.object({ ResourceType: resourceType, ResourceId: resourceId, Tags: tags }),
  RemoveTagsFromResource: z.object({ ResourceType: resourceType, ResourceId: resourceId, TagKeys: awsList(awsString({ min: 1, max: 128 })) }),
  ListTagsForResource: z.object({ ResourceType: resourceType, ResourceId: resourceId }),
};

export type SsmInput<K extends keyof typeof schemas> = z.output<(typeof schemas)[K]>;
export type ParameterStringFilter = z.output<typeof stringFilter>;
