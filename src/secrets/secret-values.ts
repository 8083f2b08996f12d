import { randomUUID, timingSafeEqual } from 'node:crypto';
import { AwsError, commonError, kmsAliasArn, kmsKeyArn, Sensitive, type RequestContext } from '../core/index.js';
import type { SecretRecord, SecretValueType, SecretVersionRecord, VersionDataKey } from '../store/index.js';
import type { SecretsDeps } from './deps.js';
import { secretsError } from './errors.js';

export type SecretValueInput = { SecretString?: Sensitive<string>; SecretBinary?: Sensitive<Buffer> };
export type PlainValue = { type: SecretValueType; bytes: Buffer };

const MAX_VALUE_BYTES = 65536;

/**
 * Envelope encryption of secret values through KMS: each version gets its own data key, and the KMS
 * encryption context binds it to the secret ARN and version id, as AWS Secrets Manager does.
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html
 */
export function createSecretValues(deps: Pick<SecretsDeps, 'kms'>) {
  async function seal(
    ctx: RequestContext,
    secret: Pick<SecretRecord, 'arn' | 'kmsKeyId' | 'accountId' | 'region'>,
    versionId: string,
    value: PlainValue,
    now: Date,
  ) {
    try {
      const keyReference = ownerKeyReference(ctx, secret, secret.kmsKeyId);
      const envelope = await deps.kms.sealEnvelope(ctx, keyReference, value.bytes, encryptionContext(secret.arn, versionId));
      const dataKey = { kmsKeyArn: envelope.kmsKeyArn, encryptedDataKey: envelope.encryptedDataKey, defaultKey: secret.kmsKeyId === undefined };
      const version: Omit<SecretVersionRecord, 'stages'> = {
        secretArn: secret.arn,
        versionId,
        dataKeys: [dataKey],
        sealedValue: envelope.sealedValue,
        valueType: value.type,
        createdDate: now,
      };
      return version;
    } catch (error) {
      refuseKmsDenial(error);
      if (error instanceof AwsError && error.fault === 'client') {
        throw secretsError('EncryptionFailure', `Secrets Manager can't encrypt the secret value with the KMS key: ${error.code}: ${error.message}`);
      }
      throw error;
    }
  }

  /** Tries the version's data keys newest first: after a key change either KMS key opens a labelled version. */
  async function open(ctx: RequestContext, version: SecretVersionRecord): Promise<PlainValue> {
    const sealedValue = version.sealedValue;
    if (!sealedValue) {
      throw secretsError('ResourceNotFoundException', `Secrets Manager can't find the specified secret value for VersionId: ${version.versionId}`);
    }
    const context = encryptionContext(version.secretArn, version.versionId);
    let firstFailure: AwsError | undefined;
    for (const dataKey of version.dataKeys) {
      try {
        const plaintext = await deps.kms.openEnvelope(ctx, { encryptedDataKey: dataKey.encryptedDataKey, sealedValue }, context);
        return { type: version.valueType, bytes: plaintext.reveal() };
      } catch (error) {
        refuseKmsDenial(error);
        if (!(error instanceof AwsError && error.fault === 'client')) throw error;
        firstFailure ??= error;
      }
    }
    const reason = firstFailure ? `${firstFailure.code}: ${firstFailure.message}` : 'the version has no data key';
    throw secretsError('DecryptionFailure', `Secrets Manager can't decrypt the protected secret text using the provided KMS key: ${reason}`);
  }

  /**
   * Wraps a version's newest data key under the secret's new key (`newKeyId` as ownerKeyReference gives it;
   * `defaultKey` when the secret names no key). Undefined when KMS refuses (the old key is disabled, say): AWS
   * then leaves that version as it was, and so does Coffer.
   */
  async function rewrap(ctx: RequestContext, version: SecretVersionRecord, newKeyId: string | undefined, defaultKey: boolean): Promise<VersionDataKey | undefined> {
    const newest = version.dataKeys[0];
    if (!newest) return undefined;
    try {
      const context = encryptionContext(version.secretArn, version.versionId);
      const rewrapped = await deps.kms.rewrapDataKey(ctx, newest.encryptedDataKey, context, newKeyId);
      // The same key named another way (id, ARN, alias) is no change for this version.
      if (version.dataKeys.some((dataKey) => dataKey.kmsKeyArn === rewrapped.kmsKeyArn)) return undefined;
      return { ...rewrapped, defaultKey };
    } catch (error) {
      // A caller KMS refuses may not re-encrypt under (or out of) a key: the whole call fails, as for a write.
      refuseKmsDenial(error);
      if (error instanceof AwsError && error.fault === 'client') return undefined;
      throw error;
    }
  }

  return { seal, open, rewrap };
}

export type SecretValues = ReturnType<typeof createSecretValues>;

/**
 * The KMS key reference for a secret's envelope, as KMS should resolve it. For the secret's own account: as
 * stored (undefined: the account's aws/secretsmanager key, created on first use). For a caller from another
 * account: the owner's key named by ARN, since KMS resolves bare key ids and alias names in the caller's
 * account; for a secret without a key, the owner's alias/aws/secretsmanager, whose AWS managed key policy
 * admits only its own account (kms:CallerAccount), so such a secret cannot be used across accounts, as in AWS.
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_examples_cross.html
 */
export function ownerKeyReference(ctx: RequestContext, owner: Pick<SecretRecord, 'accountId' | 'region'>, keyId: string | undefined): string | undefined {
  if (owner.accountId === ctx.principal.accountId) return keyId;
  const reference = keyId ?? 'alias/aws/secretsmanager';
  if (reference.startsWith('arn:')) return reference;
  if (reference.startsWith('alias/')) return kmsAliasArn(owner.region, owner.accountId, reference);
  return kmsKeyArn(owner.region, owner.accountId, reference);
}

/** Exactly one of SecretString and SecretBinary, or neither when `required` is false. */
export function plainValue(input: SecretValueInput, required: boolean): PlainValue | undefined {
  if (input.SecretString !== undefined && input.SecretBinary !== undefined) {
    throw secretsError('InvalidParameterException', "You can't specify both a binary secret value and a string secret value in the same secret.");
  }
  if (input.SecretString !== undefined) {
    const bytes = Buffer.from(input.SecretString.reveal(), 'utf8');
    // The schema counts characters; the quota is 65,536 bytes of secret value
    // (https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_limits.html). AWS's code for a
    // multi-byte string over it is not documented: refuse it as the length constraint would.
    if (bytes.length > MAX_VALUE_BYTES) {
      bytes.fill(0);
      throw secretsError('ValidationException', `1 validation error detected: Value at 'secretString' failed to satisfy constraint: Member must have length less than or equal to ${MAX_VALUE_BYTES}`);
    }
    return { type: 'string', bytes };
  }
  if (input.SecretBinary !== undefined) return { type: 'binary', bytes: input.SecretBinary.reveal() };
  if (required) throw secretsError('InvalidRequestException', 'You must provide either SecretString or SecretBinary.');
  return undefined;
}

export function sameValue(a: PlainValue, b: PlainValue): boolean {
  return a.type === b.type && a.bytes.length === b.bytes.length && timingSafeEqual(a.bytes, b.bytes);
}

/** A string value's SecretString member, wrapped so it never reaches a log. */
export function secretString(value: PlainValue): Sensitive<string> {
  return new Sensitive(value.bytes.toString('utf8'));
}

/** A binary value's SecretBinary member, wrapped so it never reaches a log. */
export function secretBinary(value: PlainValue): Sensitive<Buffer> {
  return new Sensitive(value.bytes);
}

export function newVersionId(clientRequestToken: string | undefined): string {
  return clientRequestToken ?? randomUUID();
}

/**
 * When KMS refuses the caller (its key policy, grants or the caller's own policies do not allow the use of the
 * key through Secrets Manager), AWS Secrets Manager answers AccessDeniedException "Access to KMS is not allowed"
 * rather than an encryption or decryption failure.
 */
function refuseKmsDenial(error: unknown): void {
  if (error instanceof AwsError && error.code === 'AccessDeniedException') throw commonError('AccessDeniedException', 'Access to KMS is not allowed');
}

function encryptionContext(secretArn: string, versionId: string) {
  return { SecretARN: secretArn, SecretVersionId: versionId };
}
