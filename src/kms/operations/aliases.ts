import { kmsAliasArn, type RequestContext } from '../../core/index.js';
import type { KmsDeps } from '../deps.js';
import { kmsError } from '../errors.js';
import type { KeyAccess } from '../key-access.js';
import { aliasNotFoundError, namedKey, type KeyLookup } from '../key-lookup.js';
import { invalidState, isPastDeletionWindow } from '../key-state.js';
import { mergePredefinedAliases, type ListedAlias } from '../predefined-aliases.js';
import type { KmsInput } from '../schemas.js';

const RESERVED_PREFIX = 'alias/aws/';

/**
 * Aliases: friendly names unique per account and region. https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html
 * Creating, repointing and deleting one needs the permission on the alias (IAM policy) and on each key involved
 * (key policy). https://docs.aws.amazon.com/kms/latest/developerguide/alias-access.html
 */
export function createAliasOperations(deps: KmsDeps, lookup: KeyLookup, access: KeyAccess) {
  async function createAlias(ctx: RequestContext, input: KmsInput<'CreateAlias'>) {
    assertCustomerAliasName(input.AliasName);
    await authorizeAlias(ctx, 'CreateAlias', input.AliasName);
    const key = await aliasTargetKey(ctx, input.TargetKeyId, 'CreateAlias');
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
    await authorizeAlias(ctx, 'UpdateAlias', input.AliasName);
    await authorizeCurrentKey(ctx, 'UpdateAlias', input.AliasName);
    const key = await aliasTargetKey(ctx, input.TargetKeyId, 'UpdateAlias');
    const updated = await deps.store.updateAlias(ctx.principal.accountId, ctx.region, input.AliasName, key.keyId, ctx.clock.now());
    if (!updated) throw aliasNotFound(ctx, input.AliasName);
    return {};
  }

  async function deleteAlias(ctx: RequestContext, input: KmsInput<'DeleteAlias'>) {
    assertCustomerAliasName(input.AliasName);
    await authorizeAlias(ctx, 'DeleteAlias', input.AliasName);
    await authorizeCurrentKey(ctx, 'DeleteAlias', input.AliasName);
    const deleted = await deps.store.deleteAlias(ctx.principal.accountId, ctx.region, input.AliasName);
    if (!deleted) throw aliasNotFound(ctx, input.AliasName);
    return {};
  }

  async function listAliases(ctx: RequestContext, input: KmsInput<'ListAliases'>) {
    if (input.Marker !== undefined && !input.Marker.startsWith('alias/')) {
      throw kmsError('InvalidMarkerException', 'The marker is not valid.');
    }
    const keyId = input.KeyId === undefined ? undefined : (await lookup.findKey(ctx, input.KeyId, 'id-or-arn')).keyId;
    const limit = input.Limit ?? 50;
    const stored = await deps.store.listAliases(ctx.principal.accountId, ctx.region, { limit, marker: input.Marker, keyId });
    // Predefined aliases have no key, so a listing by key never shows them.
    const page = keyId === undefined ? mergePredefinedAliases(stored, input.Marker, limit) : stored;
    const aliases = await withoutDeletedTargets(ctx, page.items);
    return {
      Aliases: aliases.map((alias) =>
        'predefined' in alias
          ? { AliasName: alias.aliasName, AliasArn: aliasArn(ctx, alias.aliasName) }
          : {
              AliasName: alias.aliasName,
              AliasArn: aliasArn(ctx, alias.aliasName),
              TargetKeyId: alias.targetKeyId,
              CreationDate: alias.creationDate,
              LastUpdatedDate: alias.lastUpdatedDate,
            },
      ),
      NextMarker: page.nextMarker,
      Truncated: page.nextMarker !== undefined,
    };
  }

  /** Drops aliases whose key's deletion window has ended: they go with the key, even before the sweeper runs. */
  async function withoutDeletedTargets(ctx: RequestContext, aliases: ListedAlias[]): Promise<ListedAlias[]> {
    const now = ctx.clock.now();
    const gone = new Map<string, boolean>();
    for (const alias of aliases) {
      if ('predefined' in alias || gone.has(alias.targetKeyId)) continue;
      const key = await deps.store.getKey(ctx.principal.accountId, ctx.region, alias.targetKeyId);
      gone.set(alias.targetKeyId, !key || isPastDeletionWindow(key, now));
    }
    return aliases.filter((alias) => 'predefined' in alias || !gone.get(alias.targetKeyId));
  }

  /** The permission on the alias itself: identity policies only (aliases have no policy of their own). */
  async function authorizeAlias(ctx: RequestContext, operation: string, aliasName: string) {
    await deps.authorizer.authorize(ctx, { action: `kms:${operation}`, resource: aliasArn(ctx, aliasName), resourceAccount: ctx.principal.accountId });
  }

  /** The permission on the key the alias points at now; NotFoundException when there is no such alias. */
  async function authorizeCurrentKey(ctx: RequestContext, operation: string, aliasName: string) {
    const alias = await deps.store.getAlias(ctx.principal.accountId, ctx.region, aliasName);
    if (!alias) throw aliasNotFound(ctx, aliasName);
    const key = await deps.store.getKey(alias.accountId, alias.region, alias.targetKeyId);
    // A refusal names the alias, not the key behind it (the caller may manage the alias but not see its key).
    if (key) await access.authorizeKey(ctx, key, operation, { named: namedKey(ctx, aliasName, {}) });
  }

  /** The target is named by key id or key ARN, never another alias, and may not be pending deletion. */
  async function aliasTargetKey(ctx: RequestContext, reference: string, action: string) {
    const key = await access.customerKeyFor(ctx, reference, action);
    if (key.keyState === 'PendingDeletion') throw invalidState(key);
    return key;
  }

  return { createAlias, updateAlias, deleteAlias, listAliases };
}

/**
 * Alias name rules beyond the schema's length and pattern.
 * https://docs.aws.amazon.com/kms/latest/developerguide/alias-create.html: "It can contain only alphanumeric characters,
 * forward slashes (/), underscores (_), and dashes (-)", and `alias/aws/` is reserved for AWS managed keys.
 */
function assertCustomerAliasName(aliasName: string): void {
  if (!aliasName.startsWith('alias/')) {
    // AWS answers ValidationException with this text (seen in aws-controllers-k8s/community#1878).
    throw kmsError('ValidationException', 'Alias must start with the prefix "alias/". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html');
  }
  if (aliasName.length === 'alias/'.length) {
    // AWS's code for an empty name after the prefix is not documented; InvalidAliasNameException is its generic one.
    throw kmsError('InvalidAliasNameException', `Alias name ${aliasName} must begin with 'alias/' followed by a name.`);
  }
  if (aliasName.includes(':')) {
    // The API pattern admits ':' but the developer guide forbids it; AWS's code is undocumented (moto: ValidationException).
    throw kmsError('ValidationException', `${aliasName} contains invalid characters for an alias`);
  }
  if (aliasName.startsWith(RESERVED_PREFIX)) {
    // CreateAlias's documented errors name no code for this; AWS answers NotAuthorizedException (as moto records).
    throw kmsError('NotAuthorizedException', `Alias names beginning with '${RESERVED_PREFIX}' are reserved for AWS managed keys.`);
  }
}

function aliasArn(ctx: RequestContext, aliasName: string): string {
  return kmsAliasArn(ctx.region, ctx.principal.accountId, aliasName);
}

function aliasNotFound(ctx: RequestContext, aliasName: string) {
  return aliasNotFoundError(aliasArn(ctx, aliasName));
}
