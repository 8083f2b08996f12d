import { parseArn, type RequestContext } from '../core/index.js';
import type { SecretRecord } from '../store/index.js';
import type { SecretsDeps } from './deps.js';
import { MARKED_FOR_DELETION, SECRET_NOT_FOUND, secretsError } from './errors.js';

/**
 * Resolves a SecretId: a full ARN, a partial ARN (without the final `-` and six random characters), or a
 * name, within the caller's account and region. A secret whose recovery window has passed is destroyed
 * here, so it is gone the moment the window ends even before the sweeper runs.
 */
export function createSecretLookup(deps: Pick<SecretsDeps, 'store'>) {
  async function findSecret(ctx: RequestContext, secretId: string): Promise<SecretRecord> {
    const secret = await lookUp(ctx, secretId);
    if (!secret) throw secretsError('ResourceNotFoundException', SECRET_NOT_FOUND);
    const due = secret.scheduledDeletionDate;
    if (due && due <= ctx.clock.now()) {
      await deps.store.destroySecret(secret.arn);
      throw secretsError('ResourceNotFoundException', SECRET_NOT_FOUND);
    }
    return secret;
  }

  /** The same, refusing a secret that waits out its recovery window. */
  async function findLiveSecret(ctx: RequestContext, secretId: string): Promise<SecretRecord> {
    const secret = await findSecret(ctx, secretId);
    if (secret.deletedDate) throw secretsError('InvalidRequestException', MARKED_FOR_DELETION);
    return secret;
  }

  async function lookUp(ctx: RequestContext, secretId: string): Promise<SecretRecord | undefined> {
    const { accountId } = ctx.principal;
    if (!secretId.startsWith('arn:')) return deps.store.getSecretByName(accountId, ctx.region, secretId);
    const arn = parseArn(secretId);
    if (!arn || arn.service !== 'secretsmanager' || arn.accountId !== accountId || arn.region !== ctx.region) return undefined;
    if (!arn.resource.startsWith('secret:')) return undefined;
    const exact = await deps.store.getSecretByArn(secretId);
    if (exact) return exact;
    // A partial ARN names the secret without its random suffix.
    return deps.store.getSecretByName(accountId, ctx.region, arn.resource.slice('secret:'.length));
  }

  return { findSecret, findLiveSecret };
}

export type SecretLookup = ReturnType<typeof createSecretLookup>;
