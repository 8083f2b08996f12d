import { Sensitive } from '../../core/index.js';
import type { SecretsCaller } from '../rotator.js';
import { awsErrorCode, RotatorError } from './errors.js';

/**
 * The Secrets Manager calls a rotator makes, over the SecretsCaller (wire-shaped JSON in and out). A value
 * may come back as a plain string (over HTTP) or still wrapped in Sensitive (in process); both are accepted,
 * and every secret value leaves here wrapped in Sensitive.
 */

export const AWSCURRENT = 'AWSCURRENT';
export const AWSPENDING = 'AWSPENDING';
export const AWSPREVIOUS = 'AWSPREVIOUS';

export type SecretMetadata = {
  arn: string;
  rotationEnabled?: boolean;
  versionIdsToStages: Record<string, string[]>;
};

export type SecretValue = { arn: string; versionId: string; secretString: Sensitive<string> };

/** https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DescribeSecret.html */
export async function describeSecret(secrets: SecretsCaller, secretId: string): Promise<SecretMetadata> {
  const output = await secrets('DescribeSecret', { SecretId: secretId });
  const stages = (output.VersionIdsToStages ?? {}) as Record<string, unknown>;
  const versionIdsToStages: Record<string, string[]> = {};
  for (const [versionId, labels] of Object.entries(stages)) versionIdsToStages[versionId] = Array.isArray(labels) ? labels.map(String) : [];
  return {
    arn: String(output.ARN ?? secretId),
    rotationEnabled: typeof output.RotationEnabled === 'boolean' ? output.RotationEnabled : undefined,
    versionIdsToStages,
  };
}

/**
 * GetSecretValue by stage, and by version id when one is given. Resolves undefined when Secrets Manager has no
 * such version (ResourceNotFoundException); a version holding SecretBinary instead of SecretString throws.
 */
export async function findSecretString(
  secrets: SecretsCaller,
  secretId: string,
  stage: string,
  versionId?: string,
): Promise<SecretValue | undefined> {
  let output: Record<string, unknown>;
  try {
    output = await secrets('GetSecretValue', { SecretId: secretId, VersionStage: stage, ...(versionId ? { VersionId: versionId } : {}) });
  } catch (error) {
    if (awsErrorCode(error) === 'ResourceNotFoundException') return undefined;
    throw error;
  }
  const secretString = reveal(output.SecretString);
  if (typeof secretString !== 'string') {
    throw new RotatorError(`the ${stage} version of secret ${secretId} has no SecretString; a database secret is a JSON string`);
  }
  return { arn: String(output.ARN ?? secretId), versionId: String(output.VersionId ?? versionId ?? ''), secretString: new Sensitive(secretString) };
}

/** Like findSecretString, with a clear error when the version does not exist. */
export async function getSecretString(secrets: SecretsCaller, secretId: string, stage: string, versionId?: string): Promise<SecretValue> {
  const found = await findSecretString(secrets, secretId, stage, versionId);
  if (!found) {
    throw new RotatorError(
      versionId ? `secret ${secretId} has no ${stage} version with id ${versionId}` : `secret ${secretId} has no ${stage} version`,
    );
  }
  return found;
}

/** https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetRandomPassword.html */
export async function getRandomPassword(secrets: SecretsCaller, excludeCharacters: string): Promise<Sensitive<string>> {
  const output = await secrets('GetRandomPassword', { ExcludeCharacters: excludeCharacters, PasswordLength: 32, RequireEachIncludedType: true });
  const password = reveal(output.RandomPassword);
  if (typeof password !== 'string' || password.length === 0) throw new RotatorError('GetRandomPassword returned no password');
  return new Sensitive(password);
}

/** PutSecretValue of the new version, labelled AWSPENDING, under the rotation's token. */
export async function putPendingVersion(secrets: SecretsCaller, secretId: string, token: string, secretString: Sensitive<string>): Promise<void> {
  await secrets('PutSecretValue', {
    SecretId: secretId,
    ClientRequestToken: token,
    SecretString: secretString.reveal(),
    VersionStages: [AWSPENDING],
  });
}

/** https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_UpdateSecretVersionStage.html */
export async function moveCurrentTo(secrets: SecretsCaller, secretId: string, versionId: string, fromVersionId: string | undefined): Promise<void> {
  await secrets('UpdateSecretVersionStage', {
    SecretId: secretId,
    VersionStage: AWSCURRENT,
    MoveToVersionId: versionId,
    ...(fromVersionId ? { RemoveFromVersionId: fromVersionId } : {}),
  });
}

/** A value as the caller returned it: plain, or a Sensitive (anything with reveal()) from an in-process call. */
function reveal(value: unknown): unknown {
  if (value instanceof Sensitive) return value.reveal();
  if (typeof value === 'object' && value !== null && typeof (value as { reveal?: unknown }).reveal === 'function') {
    return (value as { reveal: () => unknown }).reveal();
  }
  return value;
}
