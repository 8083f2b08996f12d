import type { RequestContext } from '../../core/index.js';
import type { AccessKeyRecord } from '../../store/index.js';
import type { IamDeps } from '../deps.js';
import { IAM_LIMITS, iamError } from '../errors.js';
import { pageOf } from '../paging.js';
import type { IamInput } from '../schemas.js';
import { accessKeyMetadataView } from '../views.js';
import { createIamResourceCheck, keyOwner, notFound, type KeyOwner } from './callers.js';

/**
 * CreateAccessKey, ListAccessKeys, UpdateAccessKey, DeleteAccessKey: a user's keys (at most two, as IAM), or
 * the account root's when the root calls without UserName. The secret is returned once, by CreateAccessKey.
 */
export function accessKeyOperations(deps: IamDeps) {
  const { store, credentials } = deps;
  const check = createIamResourceCheck(deps);

  /** Authorizes `iam:<operation>` on the key owner: the user, or the calling root itself. */
  async function authorizeOn(ctx: RequestContext, operation: string, owner: KeyOwner): Promise<void> {
    if (owner.kind === 'root') await check.authorizeOnCaller(ctx, operation);
    else await check.authorize(ctx, operation, 'user', owner.userName);
  }

  async function userOf(ctx: RequestContext, userName: string) {
    const user = await store.getIamUser(ctx.principal.accountId, userName);
    if (!user) throw notFound.user(userName);
    return user;
  }

  /** The keys the owner has; root keys are those of the account without a user. */
  async function keysOf(ctx: RequestContext, owner: KeyOwner): Promise<{ keys: AccessKeyRecord[]; userName?: string; userId?: string }> {
    if (owner.kind === 'root') return { keys: await store.listRootAccessKeys(ctx.principal.accountId) };
    const user = await userOf(ctx, owner.userName);
    return { keys: await store.listUserAccessKeys(user.userId), userName: user.userName, userId: user.userId };
  }

  return {
    async createAccessKey(ctx: RequestContext, input: IamInput<'CreateAccessKey'>) {
      const owner = keyOwner(ctx, input.UserName);
      await authorizeOn(ctx, 'CreateAccessKey', owner);
      const now = ctx.clock.now();
      if (owner.kind === 'root') {
        const key = await credentials.createLimitedRootAccessKey(ctx.principal.accountId, IAM_LIMITS.accessKeysPerUser, now);
        if (!key) throw keyLimit();
        return { AccessKey: { AccessKeyId: key.accessKeyId, Status: 'Active', SecretAccessKey: key.secretAccessKey, CreateDate: key.createdAt } };
      }
      const user = await userOf(ctx, owner.userName);
      const created = await credentials.createUserAccessKey(user, IAM_LIMITS.accessKeysPerUser, now);
      if (created.outcome === 'no-such-user') throw notFound.user(owner.userName);
      if (created.outcome === 'limit-exceeded') throw keyLimit();
      return {
        AccessKey: { UserName: user.userName, AccessKeyId: created.accessKeyId, Status: 'Active', SecretAccessKey: created.secretAccessKey, CreateDate: created.createdAt },
      };
    },

    async listAccessKeys(ctx: RequestContext, input: IamInput<'ListAccessKeys'>) {
      const owner = keyOwner(ctx, input.UserName);
      await authorizeOn(ctx, 'ListAccessKeys', owner);
      const { keys, userName } = await keysOf(ctx, owner);
      const page = pageOf(keys, input);
      return { AccessKeyMetadata: page.items.map((key) => accessKeyMetadataView(key, userName)), IsTruncated: page.IsTruncated, Marker: page.Marker };
    },

    async updateAccessKey(ctx: RequestContext, input: IamInput<'UpdateAccessKey'>) {
      const owner = keyOwner(ctx, input.UserName);
      await authorizeOn(ctx, 'UpdateAccessKey', owner);
      if (owner.kind === 'root') throw iamError('InvalidInput', "The account root's keys cannot be deactivated through this API.");
      const user = await userOf(ctx, owner.userName);
      if (!(await store.updateUserAccessKeyStatus(user.userId, input.AccessKeyId, input.Status))) throw notFound.accessKey(input.AccessKeyId);
      return {};
    },

    async deleteAccessKey(ctx: RequestContext, input: IamInput<'DeleteAccessKey'>) {
      const owner = keyOwner(ctx, input.UserName);
      await authorizeOn(ctx, 'DeleteAccessKey', owner);
      const deleted =
        owner.kind === 'root'
          ? await store.deleteRootAccessKey(ctx.principal.accountId, input.AccessKeyId)
          : await store.deleteUserAccessKey((await userOf(ctx, owner.userName)).userId, input.AccessKeyId);
      if (!deleted) throw notFound.accessKey(input.AccessKeyId);
      return {};
    },
  };
}

function keyLimit() {
  return iamError('LimitExceeded', `Cannot exceed quota for AccessKeysPerUser: ${IAM_LIMITS.accessKeysPerUser}`);
}
