import type { RequestContext } from '../core/index.js';
import type { KeyRecord } from '../store/index.js';
import { kmsError } from './errors.js';

/**
 * AWS managed keys (`alias/aws/<service>`) belong to the service that made them: the customer can describe
 * them, but not manage them. Their key policy (key-policy.ts awsManagedKeyPolicy) lets only the service use
 * them on the caller's behalf (kms:ViaService); this guard keeps management refused whatever that policy says.
 * Coffer answers as AWS does, with AccessDeniedException.
 * https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#aws-managed-key
 */
export function assertCustomerManaged(ctx: RequestContext, key: KeyRecord, action: string): void {
  if (key.keyManager === 'AWS') throw accessDenied(ctx, key, action);
}

function accessDenied(ctx: RequestContext, key: KeyRecord, action: string) {
  return kmsError(
    'AccessDeniedException',
    `User: ${ctx.principal.arn} is not authorized to perform: kms:${action} on resource: ${key.arn} because no resource-based policy allows the kms:${action} action`,
  );
}
