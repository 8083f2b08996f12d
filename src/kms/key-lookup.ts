import { kmsAliasArn, kmsKeyArn, parseArn, type RequestContext } from '../core/index.js';
import type { KeyRecord } from '../store/index.js';
import type { KmsDeps } from './deps.js';
import { kmsError } from './errors.js';
import { assertCustomerManaged } from './managed-key-guard.js';
import { isPastDeletionWindow } from './key-state.js';

const KEY_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export type KeyReference = 'id-or-arn' | 'any';

/**
 * Resolves the KeyId member of a request: a key id, a key ARN, and where the operation allows it an alias
 * name or alias ARN. Keys live in (account, region); a reference to another account or region is not found
 * (cross-account use arrives with key policies). A key whose deletion window has passed is destroyed here,
 * so it is gone the moment the window ends even if the sweeper has not run yet.
 */
export function createKeyLookup(deps: Pick<KmsDeps, 'store' | 'keyring'>) {
  async function findKey(ctx: RequestContext, reference: string, accepts: KeyReference = 'any'): Promise<KeyRecord> {
    const keyId = await resolveKeyId(ctx, reference, accepts);
    const key = await deps.store.getKey(ctx.principal.accountId, ctx.region, keyId);
    if (!key || (await destroyIfDue(ctx, key))) {
      throw kmsError('NotFoundException', `Key '${kmsKeyArn(ctx.region, ctx.principal.accountId, keyId)}' does not exist`);
    }
    return key;
  }

  async function resolveKeyId(ctx: RequestContext, reference: string, accepts: KeyReference): Promise<string> {
    const { accountId } = ctx.principal;
    if (reference.startsWith('arn:')) {
      const arn = parseArn(reference);
      if (!arn || arn.service !== 'kms') throw kmsError('NotFoundException', `Invalid arn ${reference}`);
      if (arn.resource.startsWith('key/') && arn.accountId === accountId && arn.region === ctx.region) {
        return arn.resource.slice('key/'.length);
      }
      if (arn.resource.startsWith('alias/') && accepts === 'any' && arn.accountId === accountId && arn.region === ctx.region) {
        return aliasTarget(ctx, arn.resource);
      }
      throw kmsError('NotFoundException', `Key '${reference}' does not exist`);
    }
    if (reference.startsWith('alias/')) {
      if (accepts !== 'any') throw kmsError('NotFoundException', `Invalid keyId ${reference}`);
      return aliasTarget(ctx, reference);
    }
    if (!KEY_ID_PATTERN.test(reference)) throw kmsError('NotFoundException', `Invalid keyId ${reference}`);
    return reference;
  }

  async function aliasTarget(ctx: RequestContext, aliasName: string): Promise<string> {
    const alias = await deps.store.getAlias(ctx.principal.accountId, ctx.region, aliasName);
    if (!alias) {
      throw kmsError('NotFoundException', `Alias '${kmsAliasArn(ctx.region, ctx.principal.accountId, aliasName)}' is not found.`);
    }
    return alias.targetKeyId;
  }

  async function destroyIfDue(ctx: RequestContext, key: KeyRecord): Promise<boolean> {
    const now = ctx.clock.now();
    if (!isPastDeletionWindow(key, now)) return false;
    await deps.store.destroyKey(key.keyId, now);
    return true;
  }

  /** A key named by id or ARN for a management operation, which AWS managed keys refuse. */
  async function findCustomerKey(ctx: RequestContext, reference: string, action: string): Promise<KeyRecord> {
    const key = await findKey(ctx, reference, 'id-or-arn');
    assertCustomerManaged(ctx, key, action);
    return key;
  }

  return { findKey, findCustomerKey };
}

export type KeyLookup = ReturnType<typeof createKeyLookup>;
