import type { RequestContext } from '../core/index.js';
import type { KeyRecord } from '../store/index.js';
import { kmsError } from './errors.js';

/**
 * AWS managed keys (`alias/aws/<service>`) belong to the service that made them: the customer can describe
 * them, but not manage them, and their key policy lets only the service use them on the caller's behalf
 * (kms:ViaService). Coffer answers as AWS's key policy would, with AccessDeniedException.
 * https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#aws-managed-key
 */
export function assertCustomerManaged(ctx: RequestContext, key: KeyRecord, action: string): void {
  if (key.keyManager === 'AWS') throw accessDenied(ctx, key, action);
}

/** Cryptographic use of an AWS managed key is allowed only through the service it belongs to. */
export function assertUsableByCaller(ctx: RequestContext, key: KeyRecord, action: string): void {
  if (key.keyManager === 'AWS' && ctx.viaService === undefined) throw accessDenied(ctx, key, action);
}

function accessDenied(ctx: RequestContext, key: KeyRecord, action: string) {
  return kmsError(
    'AccessDeniedException',
    `User: ${ctx.principal.arn} is not authorized to perform: kms:${action} on resource: ${key.arn} because no resource-based policy allows the kms:${action} action`,
  );
}
