import { parseArn, type RequestContext } from '../core/index.js';
import { requestOnNamed, requestTagContext, type AccessRequest, type ContextValue, type NamedResource } from '../policy/index.js';
import type { SecretRecord, Tag } from '../store/index.js';
import type { SecretsDeps } from './deps.js';
import { MARKED_FOR_DELETION, SECRET_NOT_FOUND, secretsError } from './errors.js';
import { refuseReplica } from './replication.js';
import type { SecretLookup } from './secret-lookup.js';

/** Request condition keys an operation adds to the secret's own (`secretsmanager:VersionStage`, `aws:RequestTag/...`). */
export type RequestConditions = Record<string, ContextValue>;

/**
 * Authorization of every operation on a secret: find it, then ask the authorizer whether the caller may
 * perform the action on the secret's ARN, with the secret's resource policy and its condition keys, before
 * anything else happens (or is revealed).
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_iam-permissions.html
 */
export function createSecretAccess(deps: Pick<SecretsDeps, 'store' | 'authorizer' | 'policies'>, lookup: SecretLookup) {
  /**
   * The secret named by `secretId`, once the caller may perform `action` on it. AWS checks the secret's own ARN,
   * and names the SecretId as given in its refusal ("... on resource: <name>"). A caller refused gets the same
   * answer whether or not the secret exists: a secret that does not exist is checked on the ARN formed from the
   * SecretId alone (`namedSecret`), without a resource policy, and a refusal on one that exists is answered as that
   * check would be unless the caller's own permissions cover the name (NamedResource). Only a caller who may act on
   * the name learns ResourceNotFoundException.
   */
  function authorizedSecret(ctx: RequestContext, secretId: string, action: string, conditions: RequestConditions = {}): Promise<SecretRecord> {
    return authorized(ctx, secretId, action, conditions, false);
  }

  /** The same, then refusing a secret that waits out its recovery window (after the check, so state never leaks). */
  function authorizedLiveSecret(ctx: RequestContext, secretId: string, action: string, conditions: RequestConditions = {}): Promise<SecretRecord> {
    return authorized(ctx, secretId, action, conditions, true);
  }

  /** authorizedSecret and authorizedLiveSecret in one async frame (GetSecretValue's path goes through here). */
  async function authorized(ctx: RequestContext, secretId: string, action: string, conditions: RequestConditions, live: boolean): Promise<SecretRecord> {
    const named = namedSecret(ctx, secretId, conditions);
    const secret = await lookup.resolve(ctx, secretId);
    if (!secret) {
      await deps.authorizer.authorize(ctx, requestOnNamed(action, named));
      throw secretsError('ResourceNotFoundException', SECRET_NOT_FOUND);
    }
    // Decided at once on the common path: no promise to await (policy/access.ts authorizeNow).
    const authorizing = deps.authorizer.authorizeNow(ctx, requestOn(secret, action, conditions, undefined, named));
    if (authorizing) await authorizing;
    if (live && secret.deletedDate) throw secretsError('InvalidRequestException', MARKED_FOR_DELETION);
    return secret;
  }

  /** The same, then refusing a replica secret: it takes changes only from its primary (secrets/replication.ts). */
  async function authorizedWritableSecret(ctx: RequestContext, secretId: string, action: string, conditions: RequestConditions = {}): Promise<SecretRecord> {
    const secret = await authorizedLiveSecret(ctx, secretId, action, conditions);
    refuseReplica(secret);
    return secret;
  }

  /**
   * Checks one more action on a secret already found (BatchGetSecretValue's per-secret GetSecretValue); `named`
   * when the caller named it by a SecretId (a refusal then names that, never the secret's ARN).
   */
  function authorizeOn(
    ctx: RequestContext,
    secret: SecretRecord,
    action: string,
    conditions: RequestConditions = {},
    tags?: Tag[],
    named?: NamedResource,
  ): Promise<void> {
    // The authorizer's promise as it is (no async frame of its own around it).
    return deps.authorizer.authorize(ctx, requestOn(secret, action, conditions, tags, named));
  }

  /** The check of `action` on a secret already found: its ARN, its resource policy, its conditions. */
  function requestOn(secret: SecretRecord, action: string, conditions: RequestConditions, tags: Tag[] | undefined, named: NamedResource | undefined): AccessRequest {
    return {
      named,
      action,
      resource: secret.arn,
      resourceAccount: secret.accountId,
      resourcePolicy: secret.resourcePolicy === undefined ? undefined : deps.policies.get(secret.resourcePolicy),
      context: Object.assign(secretConditions(secret, []), conditions),
      // The tags are read only when a policy has a condition on them.
      costlyContext: {
        keyPrefixes: RESOURCE_TAG_KEYS,
        load: async () => secretConditions(secret, tags ?? (await deps.store.listSecretTags(secret.arn))),
      },
    };
  }

  /**
   * CreateSecret: the secret does not exist yet, so the check is on the ARN it will have, with the request's
   * tags as aws:RequestTag and no resource policy.
   */
  async function authorizeNew(ctx: RequestContext, arn: string, name: string, conditions: RequestConditions, action = 'secretsmanager:CreateSecret'): Promise<void> {
    await deps.authorizer.authorize(ctx, {
      action,
      resource: arn,
      resourceAccount: ctx.principal.accountId,
      context: conditions,
      // A refusal names the Name as given, not the ARN with the suffix this call drew.
      named: namedSecret(ctx, name, conditions),
    });
  }

  /** An action without a resource (ValidateResourcePolicy without SecretId, BatchGetSecretValue's ListSecrets). */
  async function authorizeAction(ctx: RequestContext, action: string, conditions: RequestConditions = {}): Promise<void> {
    await deps.authorizer.authorize(ctx, { action, resource: '*', resourceAccount: ctx.principal.accountId, context: conditions });
  }

  return { authorizedSecret, authorizedLiveSecret, authorizedWritableSecret, authorizeOn, authorizeNew, authorizeAction };
}

export type SecretAccess = ReturnType<typeof createSecretAccess>;

/**
 * A SecretId as the request names it: a full or partial ARN as given (in the account it names), or a name as the
 * partial ARN `arn:aws:secretsmanager:<region>:<caller's account>:secret:<name>` (no random suffix, so neither a
 * refusal nor the audit event reveals one); a refusal's message shows the SecretId exactly as given.
 */
function namedSecret(ctx: RequestContext, secretId: string, conditions: RequestConditions): NamedResource {
  const arn = secretId.startsWith('arn:') ? parseArn(secretId) : undefined;
  const resource = secretId.startsWith('arn:') ? secretId : `arn:aws:secretsmanager:${ctx.region}:${ctx.principal.accountId}:secret:${secretId}`;
  return {
    resource,
    resourceAccount: arn?.accountId || ctx.principal.accountId,
    shownAs: secretId,
    context: { 'secretsmanager:SecretId': secretId, ...conditions },
  };
}

/** Condition keys (lower case, as compiled policies hold them) that need the secret's tags. */
const RESOURCE_TAG_KEYS = ['aws:resourcetag/', 'secretsmanager:resourcetag/'];

/** The condition keys every action on an existing secret carries: its name, ARN, tags, region, rotation function. */
export function secretConditions(secret: SecretRecord, tags: Tag[]): RequestConditions {
  const conditions: RequestConditions = {
    'secretsmanager:Name': secret.name,
    'secretsmanager:SecretId': secret.arn,
    'secretsmanager:SecretPrimaryRegion': secret.primaryRegion,
    'secretsmanager:resource/AllowRotationLambdaArn': secret.rotationLambdaArn,
  };
  for (const tag of tags) {
    conditions[`secretsmanager:ResourceTag/${tag.TagKey}`] = tag.TagValue;
    conditions[`aws:ResourceTag/${tag.TagKey}`] = tag.TagValue;
  }
  return conditions;
}

/** aws:RequestTag/<key> for each tag in the request and aws:TagKeys, the list of their keys (policy's requestTagContext). */
export function requestTagConditions(tags: ReadonlyArray<{ Key: string; Value: string }> | undefined): RequestConditions {
  return tags ? { ...requestTagContext(tags.map((tag) => [tag.Key, tag.Value])) } : {};
}
