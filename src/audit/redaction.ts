import { Sensitive } from '../core/index.js';

/**
 * What an audit event may keep of a request or a response. The safe default is to drop: a member whose name
 * is on the deny list or matches a sensitive pattern, any Sensitive value (never revealed here), and any blob
 * (Buffer or Uint8Array) — secret binaries, ciphertexts, key material, zip files. Dates become ISO strings.
 */
const DENIED_MEMBERS = new Set([
  'SecretString',
  'SecretBinary',
  'Plaintext',
  'RandomPassword',
  'ZipFile',
  'CiphertextBlob',
  'Password',
  'PrivateKeyPlaintext',
  'PrivateKeyCiphertextBlob',
  'PublicKey',
  'EncryptedKeyMaterial',
  'ImportToken',
  'Message',
  'Signature',
  'Mac',
  'SharedSecret',
  'CiphertextForRecipient',
  'Payload',
  // Custom key stores: the proxy's SigV4 credential (AccessKeyId and RawSecretAccessKey) goes whole.
  'XksProxyAuthenticationCredential',
  'RawSecretAccessKey',
  // STS credentials (AssumeRole, GetSessionToken) and an MFA code: the values are Sensitive too, the names are a second guard.
  'SecretAccessKey',
  'SessionToken',
  'TokenCode',
  // AssumeRoleWithWebIdentity's OIDC token: a bearer credential until it expires.
  'WebIdentityToken',
  // Invoke's base64 tail of the function's log: functions print what they like.
  'LogResult',
  // SSM: a Secrets Manager reference's raw GetSecretValue answer (it holds the secret's value).
  'SourceResult',
]);

/** Member names that look like they hold a value or key material, whatever the operation. */
const DENIED_PATTERN = /password|plaintext|secretstring|secretbinary|privatekey|sharedsecret|ciphertext|keymaterial|zipfile|payload/i;

/** Lambda `Environment: { Variables: {...} }`: names are kept, values dropped (they are often credentials). */
const VALUE_ONLY_MEMBERS = new Set(['Variables']);

export const REDACTED_MEMBER = '***';

/** Deeper structures are cut off: no AWS shape nests this deep, and a hostile body must not blow the stack. */
const MAX_DEPTH = 24;
export const TRUNCATED = '[truncated]';

export function isDeniedMember(name: string): boolean {
  return DENIED_MEMBERS.has(name) || DENIED_PATTERN.test(name);
}

/** A JSON-safe copy of `value` without anything sensitive; undefined when nothing may be kept. */
export function redact(value: unknown, depth = 0): unknown {
  // Most members are plain strings, numbers or booleans: kept as they are, before the checks of objects.
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (value instanceof Sensitive) return undefined;
  if (depth > MAX_DEPTH && value !== null && typeof value === 'object') return TRUNCATED;
  if (Buffer.isBuffer(value) || value instanceof Uint8Array || value instanceof ArrayBuffer) return undefined;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1) ?? null);
  if (value !== null && typeof value === 'object') {
    const kept: Record<string, unknown> = {};
    const members = value as Record<string, unknown>;
    // Object.keys, not Object.entries: the same members without an array per member.
    for (const member of Object.keys(members)) {
      if (isDeniedMember(member)) continue;
      const memberValue = members[member];
      // `Value` is kept only in a key/value pair (a tag); elsewhere it is a value (SSM PutParameter's).
      if (member === 'Value' && !('Key' in value)) continue;
      if (VALUE_ONLY_MEMBERS.has(member) && memberValue !== null && typeof memberValue === 'object') {
        kept[member] = Object.fromEntries(Object.keys(memberValue).map((name) => [name, REDACTED_MEMBER]));
        continue;
      }
      const redacted = redact(memberValue, depth + 1);
      if (redacted !== undefined) kept[member] = redacted;
    }
    return kept;
  }
  if (typeof value === 'function' || typeof value === 'symbol') return undefined;
  if (typeof value === 'bigint') return value.toString();
  return value;
}
