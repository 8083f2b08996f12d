import { z } from 'zod';
import { AwsError, operation, type RequestContext, type ServiceTable } from '../core/index.js';
import { AUDIT_LOOKUP_KEYS, type AuditEventRecord, type AuditLookupKey, type AuditRepository } from '../store/index.js';
import { verifyAuditChainOperation } from './verify-chain-operation.js';

/** CloudTrail's X-Amz-Target prefix for API version 2013-11-01 (botocore's, the AWS CLI's). */
export const CLOUDTRAIL_TARGET_PREFIX = 'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101';
/** The same, as the AWS SDK for JavaScript v3 sends it. */
const CLOUDTRAIL_SHORT_TARGET_PREFIX = 'CloudTrail_20131101';

const DEFAULT_MAX_RESULTS = 50;

/** https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html#API_LookupEvents_Errors */
const errors = {
  InvalidLookupAttributesException: 400,
  InvalidTimeRangeException: 400,
  InvalidMaxResultsException: 400,
  InvalidNextTokenException: 400,
  InvalidEventCategoryException: 400,
} as const;

function cloudTrailError(code: keyof typeof errors, message: string): AwsError {
  return new AwsError(code, message, errors[code]);
}

/** Epoch seconds (what the SDKs and the CLI send) or an ISO 8601 string. */
const timestamp = z.union([z.number(), z.string()]);

const lookupEventsSchema = z.object({
  LookupAttributes: z.array(z.object({ AttributeKey: z.string(), AttributeValue: z.string().min(1).max(2000) })).optional(),
  StartTime: timestamp.optional(),
  EndTime: timestamp.optional(),
  EventCategory: z.string().optional(),
  MaxResults: z.number().int().optional(),
  NextToken: z.string().optional(),
});

type LookupEventsInput = z.infer<typeof lookupEventsSchema>;

/**
 * The CloudTrail LookupEvents operation over the audit log, as its own service table (JSON 1.1, SigV4 service
 * `cloudtrail`). A caller sees its own account's events, newest first. Also Coffer's VerifyAuditChain (verify-chain-operation.ts).
 */
export function cloudTrailTable(deps: { store: Pick<AuditRepository, 'lookupAuditEvents' | 'listAuditEvents'> }): ServiceTable {
  async function lookupEvents(ctx: RequestContext, input: LookupEventsInput) {
    const attributes = input.LookupAttributes ?? [];
    if (attributes.length > 1) throw cloudTrailError('InvalidLookupAttributesException', 'You can specify only one lookup attribute.');
    const attribute = attributes[0];
    if (attribute && !(AUDIT_LOOKUP_KEYS as readonly string[]).includes(attribute.AttributeKey)) {
      throw cloudTrailError('InvalidLookupAttributesException', `Invalid attribute key: ${attribute.AttributeKey}`);
    }
    if (input.EventCategory !== undefined && input.EventCategory !== 'insight') {
      throw cloudTrailError('InvalidEventCategoryException', 'EventCategory must be insight.');
    }
    const maxResults = input.MaxResults ?? DEFAULT_MAX_RESULTS;
    if (maxResults < 1 || maxResults > 50) throw cloudTrailError('InvalidMaxResultsException', 'MaxResults must be between 1 and 50.');
    const startTime = toDate(input.StartTime);
    const endTime = toDate(input.EndTime);
    if (startTime && endTime && startTime > endTime) throw cloudTrailError('InvalidTimeRangeException', 'StartTime must be before EndTime.');
    if (input.EventCategory === 'insight') return { Events: [] };
    const records = await deps.store.lookupAuditEvents({
      accountId: ctx.principal.accountId,
      attribute: attribute && { key: attribute.AttributeKey as AuditLookupKey, value: attribute.AttributeValue },
      startTime,
      endTime,
      beforeSequence: input.NextToken === undefined ? undefined : decodeNextToken(input.NextToken),
      limit: maxResults + 1,
    });
    const page = records.slice(0, maxResults);
    const more = records.length > maxResults;
    return { Events: page.map(lookupEvent), NextToken: more ? encodeNextToken(page[page.length - 1]!.sequence) : undefined };
  }

  return {
    targetPrefix: CLOUDTRAIL_TARGET_PREFIX,
    targetPrefixAliases: [CLOUDTRAIL_SHORT_TARGET_PREFIX],
    signingName: 'cloudtrail',
    internalErrorCode: 'InternalFailure',
    operations: { LookupEvents: operation(lookupEventsSchema, lookupEvents), VerifyAuditChain: verifyAuditChainOperation(deps) },
  };
}

function lookupEvent(record: AuditEventRecord) {
  return {
    EventId: record.eventId,
    EventName: record.eventName,
    ReadOnly: String(record.readOnly),
    AccessKeyId: record.accessKeyId || undefined,
    EventTime: record.eventTime,
    EventSource: record.eventSource,
    Username: record.username || undefined,
    Resources: record.resourceNames.map((name) => ({ ResourceType: resourceType(name), ResourceName: name })),
    CloudTrailEvent: record.body,
  };
}

function resourceType(name: string): string | undefined {
  if (name.startsWith('arn:aws:secretsmanager:')) return 'AWS::SecretsManager::Secret';
  if (name.startsWith('arn:aws:kms:')) return name.includes(':alias/') ? 'AWS::KMS::Alias' : 'AWS::KMS::Key';
  if (name.startsWith('arn:aws:lambda:')) return 'AWS::Lambda::Function';
  return undefined;
}

function toDate(value: number | string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const date = typeof value === 'number' ? new Date(value * 1000) : new Date(value);
  if (Number.isNaN(date.getTime())) throw cloudTrailError('InvalidTimeRangeException', 'StartTime and EndTime must be timestamps.');
  return date;
}

function encodeNextToken(sequence: number): string {
  return Buffer.from(JSON.stringify({ before: sequence })).toString('base64');
}

function decodeNextToken(token: string): number {
  try {
    const before = (JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { before?: unknown }).before;
    if (typeof before === 'number' && Number.isInteger(before) && before > 0) return before;
  } catch {
    // falls through to the error
  }
  throw cloudTrailError('InvalidNextTokenException', 'Invalid NextToken.');
}
