import { randomUUID } from 'node:crypto';
import { remembered, type Principal } from '../core/index.js';
import { boundMembers, boundResourceNames, clipTextField } from './event-bounds.js';
import { redact } from './redaction.js';

/** What the pipeline knows of one API call when it finishes; the recorder turns it into an event. */
export type ApiCall = {
  requestId: string;
  time: Date;
  /** The SigV4 signing name of the service (`kms`, `secretsmanager`, `lambda`, `cloudtrail`); unset before routing. */
  service?: string;
  operation?: string;
  principal?: Principal;
  /** The access key id the request named, for calls that failed before a principal was known. */
  claimedAccessKeyId?: string;
  region?: string;
  sourceIp?: string;
  userAgent?: string;
  /** Set for Coffer's own in-process calls (the rotation runner, built-in rotators). */
  invokedBy?: string;
  /** The request as the caller sent it (decoded JSON or bound REST members). */
  input?: unknown;
  /** The operation's output before encoding (Sensitive values still wrapped), on success. */
  output?: unknown;
  error?: { code: string; message: string };
  /** The resources as the pipeline names them (a failed call's, from its access checks); else read from input and output. */
  resources?: AuditEvent['resources'];
};

export type UserIdentityType = 'Root' | 'IAMUser' | 'AssumedRole' | 'AWSService' | 'Unknown';

/** The CloudTrail record shape (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html). */
export type AuditEvent = {
  eventVersion: '1.08';
  eventID: string;
  eventTime: string;
  eventSource: string;
  eventName: string;
  awsRegion: string;
  sourceIPAddress: string;
  userAgent: string;
  userIdentity: { type: UserIdentityType; arn?: string; accountId?: string; accessKeyId?: string; userName?: string; invokedBy?: string };
  requestParameters: unknown;
  responseElements: unknown;
  errorCode?: string;
  errorMessage?: string;
  requestID: string;
  readOnly: boolean;
  eventType: 'AwsApiCall';
  managementEvent: true;
  eventCategory: 'Management';
  recipientAccountId?: string;
  invokedBy?: string;
  resources: Array<{ ARN: string; accountId?: string }>;
};

/** Operations that only read, as CloudTrail marks them (KMS cryptographic operations count as reads). */
const READ_ONLY = /^(Get|List|Describe|BatchGet|Lookup|Validate|Encrypt|Decrypt|ReEncrypt|GenerateDataKey|GenerateRandom|GenerateMac|VerifyMac|Sign|Verify|DeriveSharedSecret)/;

export function isReadOnly(operation: string): boolean {
  return readOnlyOperation(operation);
}

// Operation names and principal ARNs repeat from call to call: their answers are remembered (core/remembered.ts).
const readOnlyOperation = remembered((operation) => READ_ONLY.test(operation));

/** Members of a request or response that name the resource a call touched. */
const RESOURCE_MEMBERS = ['ARN', 'SecretId', 'KeyId', 'SourceKeyId', 'FunctionName', 'FunctionArn', 'Name', 'AliasName', 'TargetKeyId', 'DestinationKeyId'];

/**
 * A UUID version 7 (RFC 9562: 48-bit Unix milliseconds, then random bits) from a random v4: the timestamp
 * replaces the first 48 bits and the version nibble turns 7; the variant and 74 random bits stay. Event ids
 * that grow with time keep the audit table's index that finds them (SQLite: the time index, which holds the id)
 * appending at its end instead of touching a random index page per event (measured: the writer's CPU per event 28 → 16 µs with 200,000
 * events stored). CloudTrail's eventID is a UUID; nothing reads meaning into its version.
 */
export function timeOrderedEventId(time: Date): string {
  return `${millisecondTexts(time).idPrefix}${randomUUID().slice(15)}`;
}

/** The texts of one millisecond: the event time (ISO 8601) and the event id's timestamp part (`xxxxxxxx-xxxx-7`). */
type MillisecondTexts = { millis: number; eventTime: string; idPrefix: string };

let lastMillisecond: MillisecondTexts = { millis: Number.NaN, eventTime: '', idPrefix: '' };

/** Under load many events share a millisecond: each millisecond's texts are formatted once, for the last one seen. */
function millisecondTexts(time: Date): MillisecondTexts {
  const millis = time.getTime();
  if (millis !== lastMillisecond.millis) {
    const hex = millis.toString(16).padStart(12, '0');
    lastMillisecond = { millis, eventTime: time.toISOString(), idPrefix: `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7` };
  }
  return lastMillisecond;
}

export function buildEvent(call: ApiCall, eventId: string = timeOrderedEventId(call.time)): AuditEvent {
  const operation = call.operation ?? 'Unknown';
  const service = call.service ?? 'unknown';
  // Every member within its bound (event-bounds.ts): a caller's over-long value is kept as a truncated prefix.
  const requestParameters = boundMembers(redact(call.input) ?? null);
  const readOnly = isReadOnly(operation);
  // CloudTrail records responseElements only "for actions that make changes (create, update, or delete
  // actions)", and none for a failed call: a read (GetSecretValue, Decrypt, ListSecrets) has null.
  // https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html
  const responseElements = call.error || readOnly ? null : boundMembers(redact(call.output) ?? null);
  return {
    eventVersion: '1.08',
    eventID: eventId,
    eventTime: millisecondTexts(call.time).eventTime,
    eventSource: `${service}.amazonaws.com`,
    eventName: operation,
    awsRegion: clipTextField('awsRegion', call.region ?? ''),
    sourceIPAddress: clipTextField('sourceIPAddress', call.invokedBy ?? call.sourceIp ?? ''),
    userAgent: clipTextField('userAgent', call.invokedBy ?? call.userAgent ?? ''),
    userIdentity: userIdentity(call),
    requestParameters,
    responseElements,
    errorCode: call.error?.code,
    errorMessage: clipTextField('errorMessage', call.error?.message),
    requestID: call.requestId,
    readOnly,
    eventType: 'AwsApiCall',
    managementEvent: true,
    eventCategory: 'Management',
    recipientAccountId: call.principal?.accountId,
    invokedBy: call.invokedBy,
    // A read's response is not recorded, but the ARN it resolved (GetSecretValue by name) still names the resource.
    resources: call.resources ? boundedResources(call.resources) : resourcesOf(requestParameters, call.error ? null : call.output, call.principal?.accountId),
  };
}

/** The pipeline's resources, within the same bounds as those read from the request. */
function boundedResources(resources: AuditEvent['resources']): AuditEvent['resources'] {
  const kept = new Set(boundResourceNames(resources.map((resource) => resource.ARN)));
  return resources.filter((resource) => kept.has(resource.ARN));
}

function userIdentity(call: ApiCall): AuditEvent['userIdentity'] {
  const principal = call.principal;
  if (!principal) return { type: 'Unknown', accessKeyId: clipTextField('accessKeyId', call.claimedAccessKeyId ?? '') };
  return {
    type: call.invokedBy ? 'AWSService' : identityType(principal.arn),
    arn: principal.arn,
    accountId: principal.accountId,
    accessKeyId: principal.accessKeyId,
    userName: userName(principal.arn),
    invokedBy: call.invokedBy,
  };
}

const identityType = remembered((arn): UserIdentityType => {
  if (/^arn:[^:]+:iam::\d+:root$/.test(arn)) return 'Root';
  if (/^arn:[^:]+:sts::\d+:assumed-role\//.test(arn)) return 'AssumedRole';
  if (/^arn:[^:]+:iam::\d+:user\//.test(arn)) return 'IAMUser';
  return 'Unknown';
});

/** LookupEvents' Username: the user name, the role session name, or `root`. */
function userName(arn: string): string {
  if (arn.endsWith(':root')) return 'root';
  // The resource part starts after the fifth colon; the name is its last path segment.
  let resourceStart = 0;
  for (let colons = 0; colons < 5; colons++) {
    const colon = arn.indexOf(':', resourceStart);
    if (colon < 0) return '';
    resourceStart = colon + 1;
  }
  return arn.slice(Math.max(resourceStart, arn.lastIndexOf('/') + 1));
}

function resourcesOf(request: unknown, response: unknown, accountId: string | undefined): AuditEvent['resources'] {
  const names = new Set<string>();
  for (const part of [request, response]) {
    if (part === null || typeof part !== 'object' || Array.isArray(part)) continue;
    const members = part as Record<string, unknown>;
    for (const member of RESOURCE_MEMBERS) {
      if (typeof members[member] === 'string' && members[member]) names.add(members[member]);
    }
    const keyArn = (members.KeyMetadata as Record<string, unknown> | undefined)?.Arn;
    if (typeof keyArn === 'string') names.add(keyArn);
  }
  // Only whole names within their limit, so an over-long SecretId is stored once, truncated, in the request.
  return boundResourceNames(names).map((ARN) => ({ ARN, accountId }));
}
