import { AwsError, remembered, type RequestContext } from '../core/index.js';
import type { EncryptionContext } from '../crypto/index.js';
import { requestOnNamed, type AccessRequest, type CompiledPolicy, type ContextValue, type NamedResource, type RequestContextValues } from '../policy/index.js';
import { keyStoreId, type GrantRecord, type KeyRecord } from '../store/index.js';
import type { KmsDeps } from './deps.js';
import { kmsError } from './errors.js';
import { accountGranteeOf, assertGrantTokens, grantAllows, granteeNamesOf, isGrantOperation } from './grants.js';
import { evaluableKeyPolicy } from './key-policy.js';
import { namedKey, requestAliasOf, type KeyLookup, type KeyReference } from './key-lookup.js';
import { assertCustomerManaged } from './managed-key-guard.js';

/**
 * Operations AWS allows on a key of another account, named by its key ARN (or alias ARN where the operation takes
 * aliases): "Cross-account use: Yes" in each operation's API reference. Every other operation finds keys in the
 * caller's own account only.
 */
const CROSS_ACCOUNT_OPERATIONS = new Set([
  'Encrypt',
  'Decrypt',
  'ReEncryptFrom',
  'ReEncryptTo',
  'GenerateDataKey',
  'GenerateDataKeyWithoutPlaintext',
  'DescribeKey',
  'GetKeyRotationStatus',
  'CreateGrant',
  'ListGrants',
  'RevokeGrant',
  'RetireGrant',
  'Sign',
  'Verify',
  'GetPublicKey',
  'GenerateMac',
  'VerifyMac',
  'DeriveSharedSecret',
  'GenerateDataKeyPair',
  'GenerateDataKeyPairWithoutPlaintext',
]);

/** What the request adds to the authorization of a key operation. */
export type KeyRequest = {
  /** The encryption context of a cryptographic operation: kms:EncryptionContext:<k>, kms:EncryptionContextKeys, grant constraints. */
  readonly encryptionContext?: EncryptionContext;
  readonly grantTokens?: readonly string[];
  /** The KeyId as the caller wrote it, for kms:RequestAlias. */
  readonly reference?: string;
  /** Operation-specific condition keys (kms:GrantOperations, ...). */
  readonly context?: RequestContextValues;
  /** Further test a grant must pass to allow the request (CreateGrant: the new grant is no broader). */
  readonly grantPermits?: (grant: GrantRecord) => boolean;
  /** Checks this key policy instead of the key's stored one (the lockout safety check of a new policy). */
  readonly policy?: CompiledPolicy;
  /** How the request named the key (a key id, an alias), when a refusal must not reveal more (NamedResource). */
  readonly named?: NamedResource;
};

/**
 * Authorization of KMS operations on a key: the key policy is the root of access (directly, or delegating to
 * IAM through the account root), a grant is another path, an explicit deny anywhere wins.
 * https://docs.aws.amazon.com/kms/latest/developerguide/control-access.html
 */
export function createKeyAccess(deps: Pick<KmsDeps, 'store' | 'authorizer' | 'compiledPolicies'>, lookup: KeyLookup) {
  // Stored key policy text → the text compiled for it (evaluableKeyPolicy), so each distinct policy is read once.
  const evaluable = new Map<string, string>();
  const MAX_EVALUABLE = 10_000;

  /**
   * Throws AccessDeniedException (AWS's message) unless the caller may perform `kms:<operation>` on the key: at once
   * when the authorizer decides at once (undefined: allowed), else through the promise it answers (await either way).
   */
  function authorizeKey(ctx: RequestContext, key: KeyRecord, operation: string, request: KeyRequest = {}): Promise<void> | undefined {
    assertGrantTokens(request.grantTokens);
    const access: AccessRequest = {
      action: `kms:${operation}`,
      resource: key.arn,
      resourceAccount: key.accountId,
      resourceKind: 'key-policy' as const,
      // A stored policy that does not compile (kept from before policies were validated) allows nothing.
      resourcePolicy: request.policy ?? compiled(key.policy),
      context: conditionContext(key, request),
      // The key's tags are read only when a policy has a condition on aws:ResourceTag.
      costlyContext: { keyPrefixes: RESOURCE_TAG_KEYS, load: () => resourceTagContext(key) },
      named: request.named,
    };
    // No promise and no async frame on the common path (every KMS check comes here): decided at once, allowed.
    let waiting: Promise<void> | undefined;
    try {
      waiting = deps.authorizer.authorizeNow(ctx, access);
    } catch (error) {
      return authorizeByGrant(ctx, key, operation, request, access, error);
    }
    return waiting?.catch((error: unknown) => authorizeByGrant(ctx, key, operation, request, access, error));
  }

  /**
   * Grants are read only when the policies do not allow: the common path costs no grant lookup. A grant never
   * overrides an explicit deny (checkAccess allows by grant only an implicit deny).
   */
  async function authorizeByGrant(ctx: RequestContext, key: KeyRecord, operation: string, request: KeyRequest, access: AccessRequest, error: unknown): Promise<void> {
    if (!isAccessDenied(error) || request.policy) throw error;
    const via = await grantAllowsRequest(ctx, key, operation, request);
    if (!via) throw error;
    // A grant to the caller's account allows only with the caller's own IAM permission (accountGranteeOf).
    await deps.authorizer.authorize(ctx, via === 'grantee' ? { ...access, allowedByGrant: true } : { ...access, allowedByAccountGrant: true });
  }

  /** Whether a grant allows the request, and how it names the caller (directly, or through its account). */
  async function grantAllowsRequest(ctx: RequestContext, key: KeyRecord, operation: string, request: KeyRequest): Promise<'grantee' | 'account' | undefined> {
    if (!isGrantOperation(operation)) return undefined;
    const account = accountGranteeOf(ctx.principal.arn);
    const names = granteeNamesOf(ctx.principal.arn);
    const grants = await deps.store.listGrantsForGrantee(keyStoreId(key), account ? [...names, account] : names);
    const usable = grants.filter((grant) => grantAllows(grant, operation, request.encryptionContext) && (request.grantPermits?.(grant) ?? true));
    if (usable.some((grant) => names.includes(grant.granteePrincipal))) return 'grantee';
    return usable.length > 0 ? 'account' : undefined;
  }

  async function resourceTagContext(key: KeyRecord): Promise<RequestContextValues> {
    const context: Record<string, string> = {};
    for (const tag of await deps.store.listKeyTags(keyStoreId(key))) context[`aws:ResourceTag/${tag.TagKey}`] = tag.TagValue;
    return context;
  }

  function conditionContext(key: KeyRecord, request: KeyRequest): RequestContextValues {
    const context: Record<string, ContextValue> = {
      'kms:KeySpec': key.keySpec,
      'kms:KeyUsage': key.keyUsage,
      'kms:KeyOrigin': key.origin,
      // https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-multiregion
      'kms:MultiRegion': key.primaryRegion !== undefined,
      'kms:MultiRegionKeyType': key.primaryRegion === undefined ? undefined : key.primaryRegion === key.region ? 'PRIMARY' : 'REPLICA',
    };
    return addRequestConditions(context, request);
  }

  /**
   * Resolves a KeyId (across accounts where AWS allows it for the operation) and authorizes the operation on it.
   * A KeyId that names no key is checked as named (key ARN, alias ARN) on the caller's identity side alone, so a
   * caller without permission there gets the same AccessDeniedException whether or not the key or alias exists
   * (and a refusal on one that exists names the key as the request did: never the key behind an alias); only a
   * caller allowed on the name hears NotFoundException. Another account's keys are never found this way: with no
   * key policy to allow it, a cross-account name is always refused.
   */
  async function keyFor(
    ctx: RequestContext,
    reference: string,
    operation: string,
    options: { accepts?: KeyReference } & KeyRequest = {},
  ): Promise<KeyRecord> {
    const located = await lookup.locate(ctx, reference, options.accepts ?? 'any', CROSS_ACCOUNT_OPERATIONS.has(operation));
    const named = namedKey(ctx, reference, requestConditions({ ...options, reference }));
    if (located.notFound) {
      await deps.authorizer.authorize(ctx, requestOnNamed(`kms:${operation}`, named));
      throw located.notFound;
    }
    await authorizeKey(ctx, located.key, operation, { ...options, reference, named });
    return located.key;
  }

  /**
   * A key named by id or ARN for a management operation: authorized by its key policy, then refused for AWS
   * managed keys, which AWS lets nobody manage (managed-key-guard.ts).
   */
  async function customerKeyFor(ctx: RequestContext, reference: string, operation: string, request: KeyRequest = {}): Promise<KeyRecord> {
    const key = await keyFor(ctx, reference, operation, { ...request, accepts: 'id-or-arn' });
    assertCustomerManaged(ctx, key, operation);
    return key;
  }

  /** A key policy text, compiled through the shared cache; undefined when it does not compile. */
  function compiled(policy: string): CompiledPolicy | undefined {
    let text = evaluable.get(policy);
    if (text === undefined) {
      text = evaluableKeyPolicy(policy);
      if (evaluable.size >= MAX_EVALUABLE) evaluable.clear();
      evaluable.set(policy, text);
    }
    return deps.compiledPolicies.get(text);
  }

  /** A validated new key policy, compiled. */
  function compile(policy: string): CompiledPolicy {
    const result = compiled(policy);
    if (!result) throw kmsError('MalformedPolicyDocumentException', 'The key policy is not valid.');
    return result;
  }

  return { authorizeKey, keyFor, customerKeyFor, compile };
}

/** The key policy's condition keys that cost a store read (the key's tags), loaded only when a policy tests one. */
const RESOURCE_TAG_KEYS = ['aws:resourcetag/'];

/** The condition keys the request itself gives: kms:RequestAlias, the encryption context, the operation's own. */
function requestConditions(request: KeyRequest): RequestContextValues {
  return addRequestConditions({}, request);
}

/**
 * `kms:EncryptionContext:<name>`, remembered per name: the same few names come with every call (a secret's SecretARN
 * and SecretVersionId), and the same string each time is a property name V8 has hashed already, where a new
 * concatenation is hashed again here and again by each condition's key lookup (policy/context-keys.ts). Names are
 * the caller's: a long one is built each time and not kept.
 */
const encryptionContextKey = remembered((name) => `kms:EncryptionContext:${name}`, { longestKey: 256 });

/** Adds requestConditions' keys to `context` in place (every KMS check builds them: no intermediate objects). */
function addRequestConditions(context: Record<string, ContextValue>, request: KeyRequest): RequestContextValues {
  context['kms:RequestAlias'] = request.reference === undefined ? undefined : requestAliasOf(request.reference);
  if (request.encryptionContext !== undefined) {
    const names: string[] = [];
    for (const name in request.encryptionContext) {
      context[encryptionContextKey(name)] = request.encryptionContext[name];
      names.push(name);
    }
    context['kms:EncryptionContextKeys'] = names;
  }
  if (request.context !== undefined) Object.assign(context, request.context);
  return context;
}

function isAccessDenied(error: unknown): boolean {
  return error instanceof AwsError && error.code === 'AccessDeniedException';
}

export type KeyAccess = ReturnType<typeof createKeyAccess>;
