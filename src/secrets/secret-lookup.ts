import { parseArn, type RequestContext } from '../core/index.js';
import type { SecretRecord } from '../store/index.js';
import type { SecretsDeps } from './deps.js';

/**
 * Resolves a SecretId: a full ARN, a partial ARN (without the final `-` and six random characters), or a
 * name. Names and partial ARNs resolve in the caller's account; a full ARN may name a secret of another
 * account (cross-account access, decided by the authorizer with both accounts' policies). Always in the
 * caller's region. A secret whose recovery window has passed is destroyed here, so it is gone the moment the
 * window ends even before the sweeper runs.
 *
 * Finding is not permission: callers go through secret-access.ts, which authorizes before anything about the
 * secret (its existence included) reaches the caller.
 */
export function createSecretLookup(deps: Pick<SecretsDeps, 'store'>) {
  /** The secret, or undefined when there is none (or its recovery window just ended). */
  async function resolve(ctx: RequestContext, secretId: string): Promise<SecretRecord | undefined> {
    const secret = await lookUp(ctx, secretId);
    if (!secret) return undefined;
    const due = secret.scheduledDeletionDate;
    if (due && due <= ctx.clock.now()) {
      await deps.store.destroySecret(secret.arn);
      return undefined;
    }
    return secret;
  }

  /** A name is the store's read as it is (no async frame around it: most calls name their secret). */
  function lookUp(ctx: RequestContext, secretId: string): Promise<SecretRecord | undefined> {
    if (!secretId.startsWith('arn:')) return deps.store.getSecretByName(ctx.principal.accountId, ctx.region, secretId);
    return lookUpArn(ctx, secretId);
  }

  async function lookUpArn(ctx: RequestContext, secretId: string): Promise<SecretRecord | undefined> {
    const { accountId } = ctx.principal;
    const arn = parseArn(secretId);
    if (!arn || arn.service !== 'secretsmanager' || arn.region !== ctx.region) return undefined;
    if (!arn.resource.startsWith('secret:')) return undefined;
    const exact = await deps.store.getSecretByArn(secretId);
    if (exact) return exact;
    // A partial ARN names the secret without its random suffix; only within the caller's own account.
    if (arn.accountId !== accountId) return undefined;
    return deps.store.getSecretByName(accountId, ctx.region, arn.resource.slice('secret:'.length));
  }

  return { resolve };
}

export type SecretLookup = ReturnType<typeof createSecretLookup>;
