import { AwsError, Sensitive, type RequestContext } from '../core/index.js';
import type { ParameterVersionRecord, SealedParameterValue, StoredParameter } from '../store/index.js';
import type { SsmDeps } from './deps.js';
import { ssmError } from './errors.js';
import { parameterArn } from './names.js';
import { policyViews } from './parameter-rules.js';

/** The AWS managed key a SecureString gets when the request names none. */
export const DEFAULT_KEY_ALIAS = 'alias/aws/ssm';

/** Format byte of the ciphertext GetParameter shows without decryption (encryptedDataKey length, key, sealed value). */
const CIPHERTEXT_FORMAT = 1;

/** KMS refusals about the key itself, which Parameter Store reports as InvalidKeyId. */
const KEY_PROBLEMS = new Set(['NotFoundException', 'DisabledException', 'KMSInvalidStateException', 'InvalidKeyUsageException', 'InvalidArnException']);

/**
 * SecureString values through KMS's envelope port: a fresh data key per version from GenerateDataKey under the
 * parameter's KMS key, the value sealed with it (AES-256-GCM) and the encryption context
 * `{"PARAMETER_ARN": <arn>}` bound as AAD, so a row copied to another parameter does not open. The caller's
 * own permissions on the key decide (kms:GenerateDataKey to write, kms:Decrypt to read), as in AWS.
 */
export function createParameterValues(deps: Pick<SsmDeps, 'kms'>) {
  async function seal(ctx: RequestContext, name: string, keyId: string | undefined, value: Sensitive<string>): Promise<SealedParameterValue & { keyArn: string }> {
    const plaintext = Buffer.from(value.reveal(), 'utf8');
    try {
      const envelope = await deps.kms.sealEnvelope(ctx, keyId === DEFAULT_KEY_ALIAS ? undefined : keyId, plaintext, encryptionContext(ctx, name));
      return { encryptedDataKey: envelope.encryptedDataKey, sealedValue: envelope.sealedValue, keyArn: envelope.kmsKeyArn };
    } catch (error) {
      throw asKeyError(error);
    } finally {
      plaintext.fill(0);
    }
  }

  async function open(ctx: RequestContext, version: ParameterVersionRecord): Promise<Sensitive<string>> {
    if (!version.sealed) return new Sensitive(version.value ?? '');
    try {
      const plaintext = await deps.kms.openEnvelope(ctx, version.sealed, encryptionContext(ctx, version.name));
      const bytes = plaintext.reveal();
      const text = bytes.toString('utf8');
      bytes.fill(0);
      return new Sensitive(text);
    } catch (error) {
      throw asKeyError(error);
    }
  }

  /** The value a reply carries: in clear for String/StringList and decrypted SecureStrings, else the ciphertext. */
  async function shownValue(ctx: RequestContext, version: ParameterVersionRecord, withDecryption: boolean): Promise<Sensitive<string>> {
    if (version.sealed && !withDecryption) return new Sensitive(ciphertextText(version.sealed));
    return open(ctx, version);
  }

  return { seal, open, shownValue };
}

export type ParameterValues = ReturnType<typeof createParameterValues>;

function encryptionContext(ctx: RequestContext, name: string): Record<string, string> {
  return { PARAMETER_ARN: parameterArn(ctx.region, ctx.principal.accountId, name) };
}

/** What GetParameter without decryption shows of a SecureString: its ciphertext, base64, never the value. */
function ciphertextText(sealed: SealedParameterValue): string {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(sealed.encryptedDataKey.length);
  return Buffer.concat([Buffer.from([CIPHERTEXT_FORMAT]), length, sealed.encryptedDataKey, sealed.sealedValue]).toString('base64');
}

function asKeyError(error: unknown): unknown {
  if (error instanceof AwsError && KEY_PROBLEMS.has(error.code)) return ssmError('InvalidKeyId', error.message);
  return error;
}

/** GetParameter(s) and GetParametersByPath's Parameter. */
export function parameterView(ctx: RequestContext, stored: ParameterVersionRecord, value: Sensitive<string>, selector?: string) {
  return {
    Name: stored.name,
    Type: stored.type,
    Value: value,
    Version: stored.version,
    Selector: selector,
    LastModifiedDate: stored.lastModifiedDate,
    ARN: parameterArn(ctx.region, ctx.principal.accountId, stored.name),
    DataType: stored.dataType,
  };
}

/** GetParameterHistory's ParameterHistory: each version with its own attributes. */
export function historyView(stored: ParameterVersionRecord, value: Sensitive<string>) {
  return {
    Name: stored.name,
    Type: stored.type,
    KeyId: stored.keyId,
    LastModifiedDate: stored.lastModifiedDate,
    LastModifiedUser: stored.lastModifiedUser,
    Description: stored.description,
    Value: value,
    AllowedPattern: stored.allowedPattern,
    Version: stored.version,
    Labels: stored.labels,
    Tier: stored.tier,
    Policies: policyViews(stored.policies) ?? [],
    DataType: stored.dataType,
  };
}

/** DescribeParameters' ParameterMetadata: the latest version's attributes, no value. */
export function metadataView(ctx: RequestContext, stored: StoredParameter) {
  return {
    Name: stored.name,
    ARN: parameterArn(ctx.region, ctx.principal.accountId, stored.name),
    Type: stored.type,
    KeyId: stored.keyId,
    LastModifiedDate: stored.lastModifiedDate,
    LastModifiedUser: stored.lastModifiedUser,
    Description: stored.description,
    AllowedPattern: stored.allowedPattern,
    Version: stored.version,
    Tier: stored.tier,
    Policies: policyViews(stored.policies) ?? [],
    DataType: stored.dataType,
  };
}

/** Whether a parameter's Expiration has passed: it reads as deleted from then on (the sweep removes the rows). */
export function isExpired(stored: StoredParameter, now: Date): boolean {
  return stored.expiresAt !== undefined && stored.expiresAt <= now;
}
