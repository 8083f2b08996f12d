import { AwsError, type RequestContext } from '../../core/index.js';
import type { SecretRecord, SecretVersionRecord, Tag } from '../../store/index.js';
import { createAccessDates } from '../access-dates.js';
import type { SecretsDeps } from '../deps.js';
import { secretsError } from '../errors.js';
import { filteredSecrets, type FilteredOrder } from '../filtered-secrets.js';
import { decodeNextToken, encodeNextToken } from '../list-filters.js';
import type { SecretAccess } from '../secret-access.js';
import { plainValue, secretBinary, secretString, type SecretValues } from '../secret-values.js';
import { accessDay } from '../secret-views.js';
import type { FilterInput, SecretsInput } from '../schemas.js';
import { AWSCURRENT } from '../staging-labels.js';
import type { WriteVersion } from '../version-writer.js';

/** Reading and writing secret values. */
export function createValueOperations(deps: SecretsDeps, access: SecretAccess, values: SecretValues, writeVersion: WriteVersion) {
  const accessDates = createAccessDates(deps);
  /** https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html */
  async function getSecretValue(ctx: RequestContext, input: SecretsInput<'GetSecretValue'>) {
    const conditions = input.VersionId === undefined && input.VersionStage === undefined ? CURRENT_VERSION_CONDITIONS : versionConditions(input.VersionId, input.VersionStage);
    const secret = await access.authorizedLiveSecret(ctx, input.SecretId, GET_SECRET_VALUE, conditions);
    return readValue(ctx, secret, input.VersionId, input.VersionStage);
  }

  async function readValue(ctx: RequestContext, secret: SecretRecord, versionId: string | undefined, versionStage: string | undefined) {
    const version = await selectVersion(secret, versionId, versionStage);
    const value = await values.open(ctx, version);
    const today = accessDay(ctx.clock.now());
    // LastAccessedDate is kept to the day, so most reads have nothing to record.
    if (secret.lastAccessedDate?.getTime() !== today.getTime() || version.lastAccessedDate?.getTime() !== today.getTime()) {
      accessDates.record({ arn: secret.arn, versionId: version.versionId, accessedDate: today });
    }
    // One literal per value type (members in AWS's order), not an object of the value's member spread into another.
    return value.type === 'string'
      ? { ARN: secret.arn, Name: secret.name, VersionId: version.versionId, SecretString: secretString(value), VersionStages: version.stages, CreatedDate: version.createdDate }
      : { ARN: secret.arn, Name: secret.name, VersionId: version.versionId, SecretBinary: secretBinary(value), VersionStages: version.stages, CreatedDate: version.createdDate };
  }

  async function selectVersion(secret: SecretRecord, versionId: string | undefined, versionStage: string | undefined): Promise<SecretVersionRecord> {
    if (versionId !== undefined) {
      const version = await deps.store.getSecretVersion(secret.arn, versionId);
      // A rotation's placeholder has no value yet: AWS's rotation functions rely on this answer.
      if (!version?.sealedValue) throw secretsError('ResourceNotFoundException', `Secrets Manager can't find the specified secret value for VersionId: ${versionId}`);
      if (versionStage !== undefined && !version.stages.includes(versionStage)) {
        throw secretsError('InvalidRequestException', `You provided a VersionStage that is not associated to the provided VersionId.`);
      }
      return version;
    }
    const stage = versionStage ?? AWSCURRENT;
    const version = await deps.store.getSecretVersionByStage(secret.arn, stage);
    if (!version?.sealedValue) throw secretsError('ResourceNotFoundException', `Secrets Manager can't find the specified secret value for staging label: ${stage}`);
    return version;
  }

  /** https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_PutSecretValue.html */
  async function putSecretValue(ctx: RequestContext, input: SecretsInput<'PutSecretValue'>) {
    const secret = await access.authorizedWritableSecret(ctx, input.SecretId, 'secretsmanager:PutSecretValue');
    const value = plainValue(input, true)!;
    const written = await writeVersion(ctx, secret, input.ClientRequestToken, value, input.VersionStages ?? [AWSCURRENT]);
    return { ARN: secret.arn, Name: secret.name, VersionId: written.versionId, VersionStages: written.stages };
  }

  /**
   * Up to 20 AWSCURRENT values by id list or by filters; a secret that fails goes to Errors, not the whole call.
   * The pipeline checked secretsmanager:BatchGetSecretValue; each secret needs secretsmanager:GetSecretValue
   * (a denied one is an AccessDeniedException entry in Errors), and filters need secretsmanager:ListSecrets.
   * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_BatchGetSecretValue.html
   */
  async function batchGetSecretValue(ctx: RequestContext, input: SecretsInput<'BatchGetSecretValue'>) {
    if ((input.SecretIdList === undefined) === (input.Filters === undefined)) {
      throw secretsError('InvalidParameterException', 'Specify either SecretIdList or Filters, but not both.');
    }
    if (input.SecretIdList !== undefined) {
      if (input.MaxResults !== undefined || input.NextToken !== undefined) {
        throw secretsError('InvalidParameterException', 'MaxResults and NextToken can only be used with Filters.');
      }
      const results = await Promise.all(
        input.SecretIdList.map((secretId) =>
          readOne(ctx, secretId, () => access.authorizedLiveSecret(ctx, secretId, GET_SECRET_VALUE, CURRENT_VERSION_CONDITIONS)),
        ),
      );
      return collect(results, undefined);
    }
    await access.authorizeAction(ctx, 'secretsmanager:ListSecrets');
    const { items, NextToken } = await filteredBatch(ctx, input.Filters, input.NextToken, input.MaxResults ?? 20);
    const results = await Promise.all(items.map((secret) => readOne(ctx, secret.name, () => allowedToRead(ctx, secret, secret.tags))));
    return collect(results, NextToken);
  }

  /**
   * The page of secrets a filtered batch reads: live matches in creation order, the NextToken an offset into
   * them. Read in chunks (filteredSecrets), where the whole account was read per call; one match more than the
   * page tells whether there is a next page.
   */
  async function filteredBatch(ctx: RequestContext, filters: FilterInput[] | undefined, token: string | undefined, maxResults: number) {
    const offset = decodeNextToken(token);
    const matches = await filteredSecrets(deps.store, ctx, CREATION_ORDER, filters, offset, maxResults + 1);
    return { items: matches.slice(0, maxResults), NextToken: matches.length > maxResults ? encodeNextToken(offset + maxResults) : undefined };
  }

  async function allowedToRead(ctx: RequestContext, secret: SecretRecord, tags: Tag[]): Promise<SecretRecord> {
    await access.authorizeOn(ctx, secret, GET_SECRET_VALUE, CURRENT_VERSION_CONDITIONS, tags);
    return secret;
  }

  async function readOne(ctx: RequestContext, secretId: string, find: () => Promise<SecretRecord>) {
    try {
      return { value: await readValue(ctx, await find(), undefined, undefined) };
    } catch (error) {
      if (error instanceof AwsError && error.fault === 'client') return { error: { SecretId: secretId, ErrorCode: error.code, Message: error.message } };
      throw error;
    }
  }

  return { getSecretValue, putSecretValue, batchGetSecretValue };
}

const GET_SECRET_VALUE = 'secretsmanager:GetSecretValue';

/** A filtered batch's order: secrets by creation, none planned for deletion. */
const CREATION_ORDER: FilteredOrder = { sortBy: 'created-date', descending: false, includeDeleted: false };

/**
 * The conditions of a read of the current version (most GetSecretValue calls, every BatchGetSecretValue read): one
 * frozen object, not one per call.
 */
const CURRENT_VERSION_CONDITIONS = Object.freeze(versionConditions(undefined, undefined));

/**
 * secretsmanager:VersionStage is the stage the call reads: the one requested, or AWSCURRENT when the call names
 * neither stage nor version. A call by VersionId alone carries no stage (the key is absent), so a policy that
 * allows only some stages cannot be sidestepped by naming an older version's id.
 */
function versionConditions(versionId: string | undefined, versionStage: string | undefined) {
  return {
    'secretsmanager:VersionId': versionId,
    'secretsmanager:VersionStage': versionStage ?? (versionId === undefined ? AWSCURRENT : undefined),
  };
}

type BatchResult = { value?: object; error?: { SecretId: string; ErrorCode: string; Message: string } };

function collect(results: BatchResult[], nextToken: string | undefined) {
  return {
    SecretValues: results.flatMap((result) => (result.value ? [result.value] : [])),
    Errors: results.flatMap((result) => (result.error ? [result.error] : [])),
    NextToken: nextToken,
  };
}
