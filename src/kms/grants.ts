import { randomBytes } from 'node:crypto';
import type { EncryptionContext } from '../crypto/index.js';
import type { GrantConstraints, GrantRecord } from '../store/index.js';
import { kmsError } from './errors.js';

/**
 * Grants, pure: which grantee names a caller answers to, whether a grant allows an operation with a request's
 * encryption context, grant ids and tokens, and the canonical form that makes a named CreateGrant idempotent.
 * https://docs.aws.amazon.com/kms/latest/developerguide/grants.html
 */

/** https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateGrant.html#KMS-CreateGrant-request-Operations */
export const GRANT_OPERATIONS = [
  'Decrypt',
  'Encrypt',
  'GenerateDataKey',
  'GenerateDataKeyWithoutPlaintext',
  'ReEncryptFrom',
  'ReEncryptTo',
  'Sign',
  'Verify',
  'GetPublicKey',
  'CreateGrant',
  'RetireGrant',
  'DescribeKey',
  'GenerateDataKeyPair',
  'GenerateDataKeyPairWithoutPlaintext',
  'GenerateMac',
  'VerifyMac',
  'DeriveSharedSecret',
] as const;
export type GrantOperation = (typeof GRANT_OPERATIONS)[number];

const GRANT_OPERATION_SET = new Set<string>(GRANT_OPERATIONS);

/**
 * The operations a grant may allow, by the key's usage (and, for ENCRYPT_DECRYPT, whether it is symmetric): "The
 * operation must be supported on the KMS key" (CreateGrant, Operations). CreateGrant, DescribeKey and RetireGrant
 * go with every key. https://docs.aws.amazon.com/kms/latest/developerguide/grants.html#terms-grant-operations
 */
const COMMON_GRANT_OPERATIONS = ['CreateGrant', 'RetireGrant', 'DescribeKey'] as const;
const GRANT_OPERATIONS_BY_KEY_TYPE: Record<string, ReadonlySet<string>> = {
  SYMMETRIC_ENCRYPTION: new Set([
    'Decrypt', 'Encrypt', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext', 'ReEncryptFrom', 'ReEncryptTo',
    'GenerateDataKeyPair', 'GenerateDataKeyPairWithoutPlaintext', ...COMMON_GRANT_OPERATIONS,
  ]),
  ASYMMETRIC_ENCRYPTION: new Set(['Decrypt', 'Encrypt', 'ReEncryptFrom', 'ReEncryptTo', 'GetPublicKey', ...COMMON_GRANT_OPERATIONS]),
  SIGN_VERIFY: new Set(['Sign', 'Verify', 'GetPublicKey', ...COMMON_GRANT_OPERATIONS]),
  GENERATE_VERIFY_MAC: new Set(['GenerateMac', 'VerifyMac', ...COMMON_GRANT_OPERATIONS]),
  KEY_AGREEMENT: new Set(['DeriveSharedSecret', 'GetPublicKey', ...COMMON_GRANT_OPERATIONS]),
};

/**
 * Operations that take an encryption context, to which constraints apply. "Grants with grant constraints can
 * include the DescribeKey and RetireGrant operations, but the constraint doesn't apply to these operations."
 */
const CONTEXT_OPERATIONS = new Set<string>([
  'Decrypt',
  'Encrypt',
  'GenerateDataKey',
  'GenerateDataKeyWithoutPlaintext',
  'ReEncryptFrom',
  'ReEncryptTo',
  'GenerateDataKeyPair',
  'GenerateDataKeyPairWithoutPlaintext',
]);

export function isGrantOperation(operation: string): operation is GrantOperation {
  return GRANT_OPERATION_SET.has(operation);
}

export function isGrantableOn(key: { keySpec: string; keyUsage: string }, operation: string): boolean {
  const type =
    key.keyUsage === 'ENCRYPT_DECRYPT' ? (key.keySpec === 'SYMMETRIC_DEFAULT' ? 'SYMMETRIC_ENCRYPTION' : 'ASYMMETRIC_ENCRYPTION') : key.keyUsage;
  return GRANT_OPERATIONS_BY_KEY_TYPE[type]?.has(operation) ?? false;
}

/**
 * The grantee names a caller answers to directly: its own ARN, and for a role session the role's ARN (a grant to
 * a role serves every session of it). A grant names its grantee by ARN; the root user answers to its account's
 * root ARN directly, its account's other principals through `accountGranteeOf`.
 */
export function granteeNamesOf(principalArn: string): string[] {
  const session = /^arn:aws:sts::(\d{12}):assumed-role\/([^/]+)\/[^/]+$/.exec(principalArn);
  return session ? [principalArn, `arn:aws:iam::${session[1]}:role/${session[2]}`] : [principalArn];
}

/**
 * The account root ARN a user or role session of an account answers to by delegation, undefined for the root
 * itself (named directly) and for anything else. GranteePrincipal and RetiringPrincipal may name "AWS accounts"
 * (API_CreateGrant.html); AWS does not document more of what such a grant means. Coffer reads the account's root
 * ARN in a grant as it reads it in a key policy: it delegates to the account, so the grant serves a principal of
 * that account only when the principal's own IAM policies allow the operation on the key too (the safe reading:
 * a grant to an account never opens a key to a user or role its administrator gave no permission).
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateGrant.html
 * https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-root-enable-iam
 */
export function accountGranteeOf(principalArn: string): string | undefined {
  const member = /^arn:aws:(?:iam::(\d{12}):user\/|sts::(\d{12}):assumed-role\/)/.exec(principalArn);
  const accountId = member?.[1] ?? member?.[2];
  return accountId === undefined ? undefined : `arn:aws:iam::${accountId}:root`;
}

/**
 * How a grant names a caller: `grantee` (its ARN, its role), `account` (its account's root ARN, see
 * accountGranteeOf), or not at all.
 */
export function grantNames(principalArn: string, grantPrincipal: string | undefined): 'grantee' | 'account' | undefined {
  if (grantPrincipal === undefined) return undefined;
  if (granteeNamesOf(principalArn).includes(grantPrincipal)) return 'grantee';
  return accountGranteeOf(principalArn) === grantPrincipal ? 'account' : undefined;
}

/** EncryptionContextEquals: the same pairs exactly; EncryptionContextSubset: the request has every pair (and maybe more). */
export function constraintsAllow(constraints: GrantConstraints | undefined, context: EncryptionContext | undefined): boolean {
  if (!constraints) return true;
  const request = context ?? {};
  const { EncryptionContextEquals: equals, EncryptionContextSubset: subset } = constraints;
  if (equals !== undefined) {
    const keys = Object.keys(request);
    if (keys.length !== Object.keys(equals).length) return false;
    if (!keys.every((key) => Object.hasOwn(equals, key) && equals[key] === request[key])) return false;
  }
  if (subset !== undefined && !Object.entries(subset).every(([key, value]) => Object.hasOwn(request, key) && request[key] === value)) {
    return false;
  }
  return true;
}

/** Whether one grant lets its grantee perform `operation` for a request with this encryption context. */
export function grantAllows(grant: GrantRecord, operation: string, context: EncryptionContext | undefined): boolean {
  if (!grant.operations.includes(operation)) return false;
  return !CONTEXT_OPERATIONS.has(operation) || constraintsAllow(grant.constraints, context);
}

/**
 * A grant made through another grant's CreateGrant permission may be no broader: its operations are among the
 * parent's, and its constraint is equally strict or stricter ("the constraint requires that any grants created
 * with the CreateGrant permission have an equally strict or stricter encryption context constraint").
 */
export function isWithin(child: { operations: readonly string[]; constraints?: GrantConstraints }, parent: GrantRecord): boolean {
  if (!child.operations.every((operation) => parent.operations.includes(operation))) return false;
  const required = parent.constraints;
  if (!required) return true;
  const offered = child.constraints ?? {};
  if (required.EncryptionContextEquals !== undefined) {
    return offered.EncryptionContextEquals !== undefined && sameContext(offered.EncryptionContextEquals, required.EncryptionContextEquals);
  }
  if (required.EncryptionContextSubset !== undefined) {
    // Every context the child accepts must contain the parent's pairs.
    const childPairs = offered.EncryptionContextEquals ?? offered.EncryptionContextSubset;
    if (childPairs === undefined) return false;
    return Object.entries(required.EncryptionContextSubset).every(([key, value]) => childPairs[key] === value);
  }
  return true;
}

function sameContext(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && a[key] === b[key]);
}

/** A grant id as AWS shows them: 64 hexadecimal digits. */
export function newGrantId(): string {
  return randomBytes(32).toString('hex');
}

const GRANT_ID = /^[0-9a-f]{64}$/;
const TOKEN_VERSION = 1;
/** A token of a grant on a multi-Region key: its key id's 16 bytes are the hex digits after `mrk-`. */
const MULTI_REGION_TOKEN_VERSION = 2;
const TOKEN_BYTES = 1 + 32 + 16 + 16;

/**
 * A grant token: version, grant id, key id and a fresh nonce, base64. Every CreateGrant returns a new token, and
 * all tokens of one grant are interchangeable. Coffer's grants take effect at once, so a token needs no eventual
 * consistency bridging; it names the grant for RetireGrant and is checked for form wherever it is passed.
 */
export function newGrantToken(grantId: string, keyId: string): string {
  const multiRegion = keyId.startsWith('mrk-');
  const keyBytes = Buffer.from(multiRegion ? keyId.slice('mrk-'.length) : keyId.replaceAll('-', ''), 'hex');
  const version = multiRegion ? MULTI_REGION_TOKEN_VERSION : TOKEN_VERSION;
  return Buffer.concat([Buffer.of(version), Buffer.from(grantId, 'hex'), keyBytes, randomBytes(16)]).toString('base64');
}

/** The grant a token names; InvalidGrantTokenException when it is not a token Coffer made. */
export function parseGrantToken(token: string): { grantId: string; keyId: string } {
  const bytes = /^[A-Za-z0-9+/]+={0,2}$/.test(token) ? Buffer.from(token, 'base64') : Buffer.alloc(0);
  if (bytes.length !== TOKEN_BYTES || (bytes[0] !== TOKEN_VERSION && bytes[0] !== MULTI_REGION_TOKEN_VERSION)) {
    throw kmsError('InvalidGrantTokenException', 'The grant token is not valid.');
  }
  const key = bytes.subarray(33, 49).toString('hex');
  const keyId =
    bytes[0] === MULTI_REGION_TOKEN_VERSION ? `mrk-${key}` : `${key.slice(0, 8)}-${key.slice(8, 12)}-${key.slice(12, 16)}-${key.slice(16, 20)}-${key.slice(20)}`;
  return { grantId: bytes.subarray(1, 33).toString('hex'), keyId };
}

/** Checks each token in a request's GrantTokens; their grants apply anyway, as every grant does at once. */
export function assertGrantTokens(tokens: readonly string[] | undefined): void {
  for (const token of tokens ?? []) parseGrantToken(token);
}

export function isGrantId(value: string): boolean {
  return GRANT_ID.test(value);
}

/** The parameters that make two named CreateGrant requests "identical", in one canonical string. */
export function grantFingerprint(grant: {
  granteePrincipal: string;
  retiringPrincipal?: string;
  operations: readonly string[];
  constraints?: GrantConstraints;
}): string {
  const sortedContext = (context: Record<string, string> | undefined) =>
    context === undefined ? null : Object.keys(context).sort().map((key) => [key, context[key]]);
  return JSON.stringify([
    grant.granteePrincipal,
    grant.retiringPrincipal ?? null,
    [...new Set(grant.operations)].sort(),
    sortedContext(grant.constraints?.EncryptionContextEquals),
    sortedContext(grant.constraints?.EncryptionContextSubset),
  ]);
}
