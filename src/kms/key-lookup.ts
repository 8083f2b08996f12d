import { kmsAliasArn, kmsKeyArn, parseArn, type RequestContext } from '../core/index.js';
import type { KeyRecord } from '../store/index.js';
import type { KmsDeps } from './deps.js';
import { kmsError } from './errors.js';
import { isPastDeletionWindow } from './key-state.js';

const KEY_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export type KeyReference = 'id-or-arn' | 'any';

/** Where a KeyId points: the key's account and region, and its id. */
type KeyLocation = { accountId: string; region: string; keyId: string };

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
  async function findKey(ctx: RequestContext, reference: string, accepts: KeyReference = 'any', crossAccount = false): Promise<KeyRecord> {
    const location = await resolve(ctx, reference, accepts, crossAccount);
    const key = await deps.store.getKey(location.accountId, location.region, location.keyId);
    if (!key || (await destroyIfDue(ctx, key))) {
      throw kmsError('NotFoundException', `Key '${kmsKeyArn(location.region, location.accountId, location.keyId)}' does not exist`);
    }
    return key;
  }

  /**
   * The key a ciphertext names, in whichever account it is (Decrypt and ReEncrypt without a KeyId): key ids
   * are unique across the deployment. A key of another region is not found, as in AWS, where each region is
   * its own service.
   */
  async function findKeyById(ctx: RequestContext, keyId: string): Promise<KeyRecord> {
    const key = await deps.store.getKeyById(keyId);
    if (!key || key.region !== ctx.region || (await destroyIfDue(ctx, key))) {
      throw kmsError('NotFoundException', `Key '${keyId}' does not exist`);
    }
    return key;
  }

  async function resolve(ctx: RequestContext, reference: string, accepts: KeyReference, crossAccount: boolean): Promise<KeyLocation> {
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
        return { accountId: arn.accountId, region: arn.region, keyId: await aliasTarget(ctx, arn.accountId, arn.resource) };
      }
      throw kmsError('NotFoundException', `Key '${reference}' does not exist`);
    }
    if (reference.startsWith('alias/')) {
      if (accepts !== 'any') throw kmsError('NotFoundException', `Invalid keyId ${reference}`);
      return own(ctx, await aliasTarget(ctx, accountId, reference));
    }
    if (!KEY_ID_PATTERN.test(reference)) throw kmsError('NotFoundException', `Invalid keyId ${reference}`);
    return own(ctx, reference);
  }

  async function aliasTarget(ctx: RequestContext, accountId: string, aliasName: string): Promise<string> {
    const alias = await deps.store.getAlias(accountId, ctx.region, aliasName);
    if (!alias) throw kmsError('NotFoundException', `Alias '${kmsAliasArn(ctx.region, accountId, aliasName)}' is not found.`);
    return alias.targetKeyId;
  }

  async function destroyIfDue(ctx: RequestContext, key: KeyRecord): Promise<boolean> {
    const now = ctx.clock.now();
    if (!isPastDeletionWindow(key, now)) return false;
    await deps.store.destroyKey(key.keyId, now);
    return true;
  }

  return { findKey, findKeyById };
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
