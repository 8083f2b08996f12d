import { deflateRawSync, inflateRawSync } from 'node:zlib';

/**
 * How an audit event is kept on disk, apart from what it is. The hash chain (audit-hash.ts) is over the
 * canonical JSON text and its hashes are hex everywhere above the store; on disk the body is its text (what
 * appends write) or compressed (what imports write), and the hashes are 32 bytes. Both backends read both encodings: rows written before the compact encoding keep
 * their text (they leave with retention), so an upgrade rewrites nothing.
 *
 * Stored body: text = canonical JSON as it is (the old encoding; PostgreSQL's migration turned it into its
 * UTF-8 bytes, which start with `{`); bytes whose first byte is a codec id = that codec's output after it.
 * Codec 1 is raw DEFLATE (node:zlib) with the preset dictionary BODY_DICTIONARY_1. A new dictionary is a new
 * id with its own constant; the old one stays for the rows written with it.
 */

/**
 * Text typical of Coffer's events, most frequent last (DEFLATE reaches back to the nearest match): a few error
 * texts and identity forms, then the canonical JSON of a PutSecretValue, a KMS Decrypt and a GetSecretValue as
 * the recorder writes them (audit/event.ts). Never change it: a new dictionary is a new codec id.
 */
const BODY_DICTIONARY_1 = Buffer.from(
  [
    "\"errorCode\":\"ResourceNotFoundException\",\"errorMessage\":\"Secrets Manager can't find the specified secret.\",\"errorCode\":\"AccessDeniedException\",\"errorMessage\":\"User: arn:aws:iam::000000000000:user/app is not authorized to perform: secretsmanager:GetSecretValue on resource: \",\"userIdentity\":{\"accessKeyId\":\"ASIA\",\"accountId\":\"000000000000\",\"arn\":\"arn:aws:sts::000000000000:assumed-role/\",\"type\":\"AssumedRole\",\"type\":\"Root\",\"userName\":\"root\"},",
    "{\"awsRegion\":\"us-east-1\",\"eventCategory\":\"Management\",\"eventID\":\"00000000-0000-7000-8000-000000000000\",\"eventName\":\"PutSecretValue\",\"eventSource\":\"secretsmanager.amazonaws.com\",\"eventTime\":\"2026-01-01T00:00:00.000Z\",\"eventType\":\"AwsApiCall\",\"eventVersion\":\"1.08\",\"managementEvent\":true,\"readOnly\":false,\"recipientAccountId\":\"000000000000\",\"requestID\":\"00000000-0000-4000-8000-000000000000\",\"requestParameters\":{\"ClientRequestToken\":\"00000000-0000-4000-8000-000000000000\",\"SecretId\":\"app/db\"},\"resources\":[{\"ARN\":\"app/db\",\"accountId\":\"000000000000\"},{\"ARN\":\"arn:aws:secretsmanager:us-east-1:000000000000:secret:app/db-AbCdEf\",\"accountId\":\"000000000000\"}],\"responseElements\":{\"ARN\":\"arn:aws:secretsmanager:us-east-1:000000000000:secret:app/db-AbCdEf\",\"Name\":\"app/db\",\"VersionId\":\"00000000-0000-4000-8000-000000000000\",\"VersionStages\":[\"AWSCURRENT\"]},\"sourceIPAddress\":\"127.0.0.1\",\"userAgent\":\"aws-sdk-js/3.700.0 ua/2.1 os/linux#6.1.0-28-amd64 lang/js md/nodejs#24.11.0 api/secrets-manager#3.700.0 m/E,N\",\"userIdentity\":{\"accessKeyId\":\"AKIA0000000000000000\",\"accountId\":\"000000000000\",\"arn\":\"arn:aws:iam::000000000000:user/app\",\"type\":\"IAMUser\",\"userName\":\"app\"}}",
    "{\"awsRegion\":\"us-east-1\",\"eventCategory\":\"Management\",\"eventID\":\"00000000-0000-7000-8000-000000000000\",\"eventName\":\"Decrypt\",\"eventSource\":\"kms.amazonaws.com\",\"eventTime\":\"2026-01-01T00:00:00.000Z\",\"eventType\":\"AwsApiCall\",\"eventVersion\":\"1.08\",\"managementEvent\":true,\"readOnly\":true,\"recipientAccountId\":\"000000000000\",\"requestID\":\"00000000-0000-4000-8000-000000000000\",\"requestParameters\":{\"EncryptionAlgorithm\":\"SYMMETRIC_DEFAULT\"},\"resources\":[{\"ARN\":\"arn:aws:kms:us-east-1:000000000000:key/00000000-0000-4000-8000-000000000000\",\"accountId\":\"000000000000\"}],\"responseElements\":null,\"sourceIPAddress\":\"127.0.0.1\",\"userAgent\":\"aws-sdk-js/3.700.0 ua/2.1 os/linux#6.1.0-28-amd64 lang/js md/nodejs#24.11.0 api/kms#3.700.0 m/E,N\",\"userIdentity\":{\"accessKeyId\":\"AKIA0000000000000000\",\"accountId\":\"000000000000\",\"arn\":\"arn:aws:iam::000000000000:user/app\",\"type\":\"IAMUser\",\"userName\":\"app\"}}",
    "{\"awsRegion\":\"us-east-1\",\"eventCategory\":\"Management\",\"eventID\":\"00000000-0000-7000-8000-000000000000\",\"eventName\":\"GetSecretValue\",\"eventSource\":\"secretsmanager.amazonaws.com\",\"eventTime\":\"2026-01-01T00:00:00.000Z\",\"eventType\":\"AwsApiCall\",\"eventVersion\":\"1.08\",\"managementEvent\":true,\"readOnly\":true,\"recipientAccountId\":\"000000000000\",\"requestID\":\"00000000-0000-4000-8000-000000000000\",\"requestParameters\":{\"SecretId\":\"app/db\"},\"resources\":[{\"ARN\":\"arn:aws:secretsmanager:us-east-1:000000000000:secret:app/db-AbCdEf\",\"accountId\":\"000000000000\"}],\"responseElements\":null,\"sourceIPAddress\":\"127.0.0.1\",\"userAgent\":\"aws-sdk-js/3.700.0 ua/2.1 os/linux#6.1.0-28-amd64 lang/js md/nodejs#24.11.0 api/secrets-manager#3.700.0 m/E,N\",\"userIdentity\":{\"accessKeyId\":\"AKIA0000000000000000\",\"accountId\":\"000000000000\",\"arn\":\"arn:aws:iam::000000000000:user/app\",\"type\":\"IAMUser\",\"userName\":\"app\"}}",
  ].join(''),
  'utf8',
);

const DEFLATE_WITH_DICTIONARY_1 = 1;
/**
 * Level 1 and a 4 KiB window (the dictionary fits in it): each call sets up a fresh zlib stream, whose set-up is
 * most of the cost for a 1 KB event, and the smaller stream is the cheaper one to set up. Level 6 saved ~10 bytes
 * of a GetSecretValue's ~175 at no CPU difference measurable on a shared machine (bench/RESULTS.md, issue 21).
 */
const DEFLATE_OPTIONS = { level: 1, windowBits: 12, memLevel: 5, dictionary: BODY_DICTIONARY_1 };
const INFLATE_OPTIONS = { windowBits: 12, dictionary: BODY_DICTIONARY_1 };

/** The body as the compact encoding stores it: the codec id, then the compressed canonical JSON. */
export function encodeAuditBody(body: string): Buffer {
  const compressed = deflateRawSync(body, DEFLATE_OPTIONS);
  const stored = Buffer.allocUnsafe(compressed.length + 1);
  stored[0] = DEFLATE_WITH_DICTIONARY_1;
  compressed.copy(stored, 1);
  return stored;
}

/**
 * The canonical JSON of a stored body, whichever encoding it has. Bytes that do not decode (a tampered row)
 * come back as some text that is not the event: the chain's hash check names the event, nothing throws.
 */
export function decodeAuditBody(stored: unknown): string {
  if (typeof stored === 'string') return stored;
  if (!(stored instanceof Uint8Array)) return String(stored);
  const bytes = Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength);
  if (bytes[0] !== DEFLATE_WITH_DICTIONARY_1) return bytes.toString('utf8');
  try {
    return inflateRawSync(bytes.subarray(1), INFLATE_OPTIONS).toString('utf8');
  } catch {
    return `undecodable stored body (${bytes.length} bytes)`;
  }
}

/** A chain hash (64 hex characters) as 32 bytes; anything else (never written by Coffer) stays text. */
export function encodeAuditHash(hex: string): Buffer | string {
  return /^[0-9a-f]{64}$/.test(hex) ? Buffer.from(hex, 'hex') : hex;
}

/** A stored hash as the hex text the chain works with. */
export function decodeAuditHash(stored: unknown): string {
  if (stored instanceof Uint8Array) return Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength).toString('hex');
  return String(stored);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** An event id in lowercase UUID form (every id Coffer makes) as its 16 bytes; any other stays text. */
export function encodeAuditEventId(eventId: string): Buffer | string {
  return UUID.test(eventId) ? Buffer.from(eventId.replaceAll('-', ''), 'hex') : eventId;
}

export function decodeAuditEventId(stored: unknown): string {
  if (!(stored instanceof Uint8Array)) return String(stored);
  const hex = Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
