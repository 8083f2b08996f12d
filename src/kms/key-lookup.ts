import { kmsAliasArn, kmsKeyArn, parseArn, type AwsError, type RequestContext } from '../core/index.js';
import type { NamedResource } from '../policy/index.js';
import { keyStoreId, type KeyRecord } from '../store/index.js';
import type { KmsDeps } from './deps.js';
import { kmsError } from './errors.js';
import { isMaterialExpired, isPastDeletionWindow } from './key-state.js';

/** A key id: a UUID, or a multi-Region key's `mrk-` and 32 hex digits. */
const KEY_ID_PATTERN = /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$/;

export type KeyReference = 'id-or-arn' | 'any';

/** Where a KeyId points: the key's account and region, and its id. */
type KeyLocation = { accountId: string; region: string; keyId: string };

/** A KeyId looked up: the key, or the NotFoundException that a caller allowed on the name is told. */
export type LocatedKey = { readonly key: KeyRecord; readonly notFound?: undefined } | { readonly key?: undefined; readonly notFound: AwsError };

/**
 * Resolves the KeyId member of a request: a key id, a key ARN, and where the operation allows it an alias
 * name or alias ARN. Keys live in (account, region). A key ARN, or where aliases are accepted an alias ARN, of
 * another account resolves in that account only for operations AWS allows across accounts (`crossAccount`):
 * "To specify a KMS key in a different AWS account, you must use the key ARN or alias ARN" (Encrypt, KeyId).
 * Key ids and alias names always mean the caller's own account. A key whose deletion window
 * has passed is destroyed here, so it is gone the moment the window ends even if the sweeper has not run yet.
 * Finding a key authorizes nothing: key-access.ts checks the caller's rights on it.
 */
export function createKeyLookup(deps: Pick<KmsDeps, 'store'>) {
  /** The key, or NotFoundException whether or not the caller may know: only for callers already authorized on the account (ListAliases). */
  async function findKey(ctx: RequestContext, reference: string, accepts: KeyReference = 'any', crossAccount = false): Promise<KeyRecord> {
    const located = await locate(ctx, reference, accepts, crossAccount);
    if (located.notFound) throw located.notFound;
    return located.key;
  }

  /**
   * The key a KeyId names, or the NotFoundException for it when there is none, without throwing it: key-access.ts
   * tells it only to a caller whose permissions cover the name. A KeyId of the wrong form for the operation (an
   * alias where only keys are taken, another account's key for a same-account operation) throws NotFoundException
   * here, whatever exists: that answer depends on the request alone.
   */
  async function locate(ctx: RequestContext, reference: string, accepts: KeyReference = 'any', crossAccount = false): Promise<LocatedKey> {
    const location = await resolve(ctx, reference, accepts, crossAccount);
    if ('notFound' in location) return location;
    const key = await deps.store.getKey(location.accountId, location.region, location.keyId);
    const current = key && (await currentOrGone(ctx, key));
    if (!current) {
      return { notFound: kmsError('NotFoundException', `Key '${kmsKeyArn(location.region, location.accountId, location.keyId)}' does not exist`) };
    }
    return { key: current };
  }

  /**
   * The key a ciphertext names, in whichever account it is (Decrypt and ReEncrypt without a KeyId): key ids
   * are unique across the deployment. A key of another region is not found, as in AWS, where each region is
   * its own service: a multi-Region key id finds its member in the caller's Region (a replica made after the
   * ciphertext opens it too), never another Region's.
   */
  function findKeyById(ctx: RequestContext, keyId: string): Promise<KeyRecord> {
    // No async frame: every Decrypt and every envelope a GetSecretValue opens comes here.
    return deps.store.getKeyById(keyId, ctx.region).then((key) => {
      const checked = key && key.region === ctx.region ? currentOrGone(ctx, key) : undefined;
      return checked instanceof Promise ? checked.then((current) => foundById(keyId, current)) : foundById(keyId, checked);
    });
  }

  function foundById(keyId: string, key: KeyRecord | undefined): KeyRecord {
    if (!key) throw kmsError('NotFoundException', `Key '${keyId}' does not exist`);
    return key;
  }

  /** Where the KeyId points; `notFound` for an alias that names nothing. */
  async function resolve(ctx: RequestContext, reference: string, accepts: KeyReference, crossAccount: boolean): Promise<KeyLocation | { notFound: AwsError }> {
    const { accountId } = ctx.principal;
    if (reference.startsWith('arn:')) {
      const arn = parseArn(reference);
      if (!arn || arn.service !== 'kms') throw kmsError('NotFoundException', `Invalid arn ${reference}`);
      const ownAccount = arn.accountId === accountId;
      if (arn.resource.startsWith('key/') && arn.region === ctx.region && (ownAccount || crossAccount)) {
        const keyId = arn.resource.slice('key/'.length);
        if (!KEY_ID_PATTERN.test(keyId)) throw kmsError('NotFoundException', `Key '${reference}' does not exist`);
        return { accountId: arn.accountId, region: arn.region, keyId };
      }
      if (arn.resource.startsWith('alias/') && accepts === 'any' && arn.region === ctx.region && (ownAccount || crossAccount)) {
        return aliasTarget(ctx, arn.accountId, arn.resource);
      }
      throw kmsError('NotFoundException', `Key '${reference}' does not exist`);
    }
    if (reference.startsWith('alias/')) {
      if (accepts !== 'any') throw kmsError('NotFoundException', `Invalid keyId ${reference}`);
      return aliasTarget(ctx, accountId, reference);
    }
    if (!KEY_ID_PATTERN.test(reference)) throw kmsError('NotFoundException', `Invalid keyId ${reference}`);
    return own(ctx, reference);
  }

  async function aliasTarget(ctx: RequestContext, accountId: string, aliasName: string): Promise<KeyLocation | { notFound: AwsError }> {
    const alias = await deps.store.getAlias(accountId, ctx.region, aliasName);
    if (!alias) return { notFound: aliasNotFoundError(kmsAliasArn(ctx.region, accountId, aliasName)) };
    return { accountId, region: ctx.region, keyId: alias.targetKeyId };
  }

  /**
   * The key as it stands now: undefined once its deletion window has passed (it is destroyed here), its imported
   * material deleted once ValidTo has come (the key becomes PendingImport), so both take effect the moment the key
   * is looked up, even before the sweeper runs. A key with neither due is returned as is, without a promise: every
   * lookup (each Decrypt) asks, and awaiting would cost a turn.
   */
  function currentOrGone(ctx: RequestContext, key: KeyRecord): KeyRecord | Promise<KeyRecord | undefined> {
    const now = ctx.clock.now();
    if (isPastDeletionWindow(key, now)) return deps.store.destroyKey(keyStoreId(key), now).then(() => undefined);
    if (isMaterialExpired(key, now)) return expireMaterial(key, now);
    return key;
  }

  async function expireMaterial(key: KeyRecord, now: Date): Promise<KeyRecord> {
    return (await deps.store.deleteImportedKeyMaterial(keyStoreId(key), { expiredBy: now })) ?? (await deps.store.getKeyById(key.keyId)) ?? key;
  }

  return { findKey, locate, findKeyById };
}

/**
 * A KeyId as the request names it, for NamedResource: a key id as its key ARN and an alias name as its alias ARN
 * in the caller's account, an ARN as given. Never the key an alias points at.
 */
export function namedKey(ctx: RequestContext, reference: string, context: NamedResource['context']): NamedResource {
  const arn = reference.startsWith('arn:') ? parseArn(reference) : undefined;
  const { accountId } = ctx.principal;
  const resource = arn ? reference : reference.startsWith('alias/') ? kmsAliasArn(ctx.region, accountId, reference) : kmsKeyArn(ctx.region, accountId, reference);
  return { resource, resourceAccount: arn?.accountId || accountId, context };
}

function own(ctx: RequestContext, keyId: string): KeyLocation {
  return { accountId: ctx.principal.accountId, region: ctx.region, keyId };
}

/** The alias a KeyId named, for kms:RequestAlias: `alias/<name>` from an alias name or alias ARN. */
export function requestAliasOf(reference: string): string | undefined {
  if (reference.startsWith('alias/')) return reference;
  const arn = reference.startsWith('arn:') ? parseArn(reference) : undefined;
  return arn?.resource.startsWith('alias/') ? arn.resource : undefined;
}

export type KeyLookup = ReturnType<typeof createKeyLookup>;

/** AWS's NotFoundException for an alias: the alias ARN, unquoted ("Alias arn:aws:kms:…:alias/x is not found."). */
export function aliasNotFoundError(aliasArn: string) {
  return kmsError('NotFoundException', `Alias ${aliasArn} is not found.`);
}
