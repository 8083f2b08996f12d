import { hash } from 'node:crypto';

/**
 * Size bounds of an audit event, so that no caller — even one refused every action — can grow the audit log by
 * more than a fixed amount per request (a request body may be up to 1 MiB, and a failed call records what it
 * was sent). CloudTrail does the same: "CloudTrail truncates a field if the field's contents exceeds the
 * maximum field size" (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html).
 *
 * - A string member of the request or response longer than its AWS limit (MEMBER_LIMITS), or whose JSON text is
 *   longer than MEMBER_CAP_BYTES, is stored as a TruncatedValue: a prefix, the original length and its SHA-256,
 *   and nowhere else (resources name only whole strings).
 * - An object member name longer than MEMBER_NAME_CAP_BYTES is cut to a prefix and a digest of the whole name.
 * - The event's own text fields are clipped (TEXT_FIELD_LIMITS), its resources kept within RESOURCES_CAP_BYTES.
 * - If the whole event is still above MAX_EVENT_BYTES, requestParameters and then responseElements give way to a
 *   TruncatedValue of their JSON text (recorder.ts): what is left is bounded field by field, so it always fits.
 */

/** Any string member whose JSON text is longer than this is truncated ("a few KB"). */
export const MEMBER_CAP_BYTES = 4096;
/** How much of a truncated string is kept. */
export const TRUNCATED_PREFIX_CHARS = 256;
/** Longer object member names (maps such as EncryptionContext or Tags take any name) are cut. */
export const MEMBER_NAME_CAP_BYTES = 256;
const MEMBER_NAME_PREFIX_CHARS = 64;
/** The resources of one event, together (each ARN is also a member, bounded like one). */
export const RESOURCES_CAP_BYTES = 8192;
/** The canonical JSON of one event, in UTF-8 bytes. */
export const MAX_EVENT_BYTES = 32 * 1024;

/**
 * AWS's length limits of the members that name or describe things (botocore's service models, as in the
 * operations' schemas). A member over its limit failed validation; it is kept only as a truncated prefix.
 * Members of list type give the limit of each item. Limits above MEMBER_CAP_BYTES need no entry.
 */
const MEMBER_LIMITS: ReadonlyMap<string, number> = new Map([
  // Secrets Manager (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html)
  ['SecretId', 2048],
  ['SecretIdList', 2048],
  ['Name', 512],
  ['KmsKeyId', 2048],
  ['ClientRequestToken', 64],
  ['VersionId', 64],
  ['VersionStage', 256],
  ['VersionStages', 256],
  ['MoveToVersionId', 64],
  ['RemoveFromVersionId', 64],
  ['RotationLambdaARN', 2048],
  ['Key', 128],
  ['Value', 256],
  ['TagKeys', 128],
  ['Values', 512],
  // KMS (https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateAlias.html and the other operations)
  ['KeyId', 2048],
  ['TargetKeyId', 2048],
  ['DestinationKeyId', 2048],
  ['SourceKeyId', 2048],
  ['AliasName', 256],
  ['TagKey', 128],
  ['TagValue', 256],
  ['PolicyName', 128],
  ['GrantId', 128],
  ['GranteePrincipal', 256],
  ['RetiringPrincipal', 256],
  ['Marker', 1024],
  // Lambda and IAM
  ['FunctionName', 140],
  ['UserName', 64],
  ['RoleName', 64],
  ['RoleSessionName', 64],
  ['Path', 512],
  ['GroupName', 128],
  ['NewGroupName', 128],
  ['NewPath', 512],
]);

/** The event's own text fields: longer values (from headers or the SigV4 scope) are clipped to this many characters. */
const TEXT_FIELD_LIMITS = { userAgent: 1024, awsRegion: 64, accessKeyId: 128, sourceIPAddress: 64, errorMessage: 1024 } as const;

/** What is stored in place of a string too long to keep. */
export type TruncatedValue = { truncated: true; prefix: string; length: number; sha256: string };

export function truncatedValue(text: string): TruncatedValue {
  return { truncated: true, prefix: codePointPrefix(text, TRUNCATED_PREFIX_CHARS), length: text.length, sha256: hash('sha256', text, 'hex') };
}

/** A copy of a redacted request or response with every string and member name within its bound. */
export function boundMembers(value: unknown, memberName?: string): unknown {
  if (typeof value === 'string') return withinLimit(value, memberName) ? value : truncatedValue(value);
  if (Array.isArray(value)) return value.map((item) => boundMembers(item, memberName));
  if (value !== null && typeof value === 'object') {
    const bounded: Record<string, unknown> = {};
    for (const name in value) {
      bounded[boundedMemberName(name)] = boundMembers((value as Record<string, unknown>)[name], name);
    }
    return bounded;
  }
  return value;
}

/** Clips one of the event's own text fields (`userAgent`, `awsRegion`, ...) to its limit. */
export function clipTextField(field: keyof typeof TEXT_FIELD_LIMITS, text: string): string;
export function clipTextField(field: keyof typeof TEXT_FIELD_LIMITS, text: string | undefined): string | undefined;
export function clipTextField(field: keyof typeof TEXT_FIELD_LIMITS, text: string | undefined): string | undefined {
  return text === undefined ? undefined : codePointPrefix(text, TEXT_FIELD_LIMITS[field]);
}

/** The resource names, each a whole string within its member's limit, as many as fit RESOURCES_CAP_BYTES. */
export function boundResourceNames(names: Iterable<string>): string[] {
  const whole: string[] = [];
  let mostBytes = 0;
  for (const name of names) {
    if (!withinLimit(name, 'SecretId')) continue;
    whole.push(name);
    mostBytes += name.length * 6 + 2;
  }
  // The usual few short ARNs fit even at 6 bytes a character: their exact size is only counted near the cap.
  if (mostBytes <= RESOURCES_CAP_BYTES) return whole;
  const kept: string[] = [];
  let bytes = 0;
  for (const name of whole) {
    bytes += Buffer.byteLength(JSON.stringify(name));
    if (bytes > RESOURCES_CAP_BYTES) break;
    kept.push(name);
  }
  return kept;
}

function withinLimit(text: string, memberName: string | undefined): boolean {
  const limit = memberName === undefined ? undefined : MEMBER_LIMITS.get(memberName);
  if (limit !== undefined && text.length > limit) return false;
  return jsonFits(text, MEMBER_CAP_BYTES);
}

function boundedMemberName(name: string): string {
  if (jsonFits(name, MEMBER_NAME_CAP_BYTES)) return name;
  return `${codePointPrefix(name, MEMBER_NAME_PREFIX_CHARS)}…[${name.length} chars, sha256 ${hash('sha256', name, 'hex')}]`;
}

/** Whether a string's JSON text fits `capBytes` of UTF-8; no UTF-16 unit takes more than 6 bytes (`\u0001`). */
function jsonFits(text: string, capBytes: number): boolean {
  return text.length * 6 <= capBytes || Buffer.byteLength(JSON.stringify(text)) <= capBytes;
}

/** At most `chars` UTF-16 units of `text`, never ending inside a surrogate pair. */
function codePointPrefix(text: string, chars: number): string {
  if (text.length <= chars) return text;
  const code = text.charCodeAt(chars - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? chars - 1 : chars);
}
