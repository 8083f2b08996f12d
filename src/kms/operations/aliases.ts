import { kmsAliasArn, type RequestContext } from '../../core/index.js';
import type { KmsDeps } from '../deps.js';
import { kmsError } from '../errors.js';
import type { KeyLookup } from '../key-lookup.js';
import { invalidState } from '../key-state.js';
import type { KmsInput } from '../schemas.js';

const RESERVED_PREFIX = 'alias/aws/';

/** Aliases: friendly names unique per account and region. https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html */
export function createAliasOperations(deps: KmsDeps, lookup: KeyLookup) {
  async function createAlias(ctx: RequestContext, input: KmsInput<'CreateAlias'>) {
    assertCustomerAliasName(input.AliasName);
    const key = await aliasTargetKey(ctx, input.TargetKeyId);
    const now = ctx.clock.now();
    const created = await deps.store.createAlias({
      accountId: ctx.principal.accountId,
      region: ctx.region,
      aliasName: input.AliasName,
      targetKeyId: key.keyId,
      creationDate: now,
      lastUpdatedDate: now,
    });
    if (!created) {
      throw kmsError('AlreadyExistsException', `An alias with the name ${aliasArn(ctx, input.AliasName)} already exists`);
    }
    return {};
  }

  async function updateAlias(ctx: RequestContext, input: KmsInput<'UpdateAlias'>) {
    assertCustomerAliasName(input.AliasName);
    const key = await aliasTargetKey(ctx, input.TargetKeyId);
    const updated = await deps.store.updateAlias(ctx.principal.accountId, ctx.region, input.AliasName, key.keyId, ctx.clock.now());
    if (!updated) throw aliasNotFound(ctx, input.AliasName);
    return {};
  }

  async function deleteAlias(ctx: RequestContext, input: KmsInput<'DeleteAlias'>) {
    assertCustomerAliasName(input.AliasName);
    const deleted = await deps.store.deleteAlias(ctx.principal.accountId, ctx.region, input.AliasName);
    if (!deleted) throw aliasNotFound(ctx, input.AliasName);
    return {};
  }

  async function listAliases(ctx: RequestContext, input: KmsInput<'ListAliases'>) {
    if (input.Marker !== undefined && !input.Marker.startsWith('alias/')) {
      throw kmsError('InvalidMarkerException', 'The marker is not valid.');
    }
    const keyId = input.KeyId === undefined ? undefined : (await lookup.findKey(ctx, input.KeyId, 'id-or-arn')).keyId;
    const page = await deps.store.listAliases(ctx.principal.accountId, ctx.region, {
      limit: input.Limit ?? 50,
      marker: input.Marker,
      keyId,
    });
    return {
      Aliases: page.items.map((alias) => ({
        AliasName: alias.aliasName,
        AliasArn: aliasArn(ctx, alias.aliasName),
        TargetKeyId: alias.targetKeyId,
        CreationDate: alias.creationDate,
        LastUpdatedDate: alias.lastUpdatedDate,
      })),
      NextMarker: page.nextMarker,
      Truncated: page.nextMarker !== undefined,
    };
  }

  /** The target is named by key id or key ARN, never another alias, and may not be pending deletion. */
  async function aliasTargetKey(ctx: RequestContext, reference: string) {
    const key = await lookup.findKey(ctx, reference, 'id-or-arn');
    if (key.keyState === 'PendingDeletion') throw invalidState(key);
    return key;
  }

  return { createAlias, updateAlias, deleteAlias, listAliases };
}

function assertCustomerAliasName(aliasName: string): void {
  if (!aliasName.startsWith('alias/') || aliasName.length === 'alias/'.length) {
    throw kmsError('InvalidAliasNameException', `Alias name ${aliasName} must begin with 'alias/' followed by a name.`);
  }
  if (aliasName.startsWith(RESERVED_PREFIX)) {
    throw kmsError('NotAuthorizedException', `Alias names beginning with '${RESERVED_PREFIX}' are reserved for AWS managed keys.`);
  }
}

function aliasArn(ctx: RequestContext, aliasName: string): string {
  return kmsAliasArn(ctx.region, ctx.principal.accountId, aliasName);
}

function aliasNotFound(ctx: RequestContext, aliasName: string) {
  return kmsError('NotFoundException', `Alias '${aliasArn(ctx, aliasName)}' is not found.`);
}
