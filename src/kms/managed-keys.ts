import { randomUUID } from 'node:crypto';
import { kmsKeyArn, type RequestContext } from '../core/index.js';
import type { KmsDeps } from './deps.js';
import type { KeyMaterial } from './key-material.js';
import { generateKeyMaterial } from './key-pairs.js';
import { awsManagedKeyPolicy } from './key-policy.js';

/** The descriptions AWS gives its managed keys. */
const MANAGED_KEY_DESCRIPTIONS: Record<string, string> = {
  secretsmanager: 'Default key that protects my Secrets Manager data when no other key is defined',
  lambda: 'Default key that protects my Lambda functions when no other key is defined',
  ssm: 'Default key that protects my SSM Parameter Store data when no other key is defined',
};

/**
 * AWS managed keys (`alias/aws/<service>`), created the first time a service needs one in an account and
 * region. The store's insert-or-get makes concurrent first uses agree on a single key.
 * https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#aws-managed-key
 */
export function createManagedKeys(deps: Pick<KmsDeps, 'store'>, material: KeyMaterial) {
  return async function ensureManagedKey(ctx: RequestContext, service: string): Promise<string> {
    const aliasName = `alias/aws/${service}`;
    const { accountId } = ctx.principal;
    const existing = await deps.store.getAlias(accountId, ctx.region, aliasName);
    if (existing) return existing.targetKeyId;
    const keyId = randomUUID();
    const arn = kmsKeyArn(ctx.region, accountId, keyId);
    const now = ctx.clock.now();
    const backing = material.newBackingKey(arn, keyId, now, (await generateKeyMaterial('SYMMETRIC_DEFAULT')).material);
    return deps.store.createManagedKey(
      {
        keyId,
        accountId,
        region: ctx.region,
        arn,
        description: MANAGED_KEY_DESCRIPTIONS[service] ?? `Default key that protects my ${service} data when no other key is defined`,
        keyUsage: 'ENCRYPT_DECRYPT',
        keySpec: 'SYMMETRIC_DEFAULT',
        origin: 'AWS_KMS',
        keyManager: 'AWS',
        keyState: 'Enabled',
        creationDate: now,
        policy: awsManagedKeyPolicy(accountId, ctx.region, service),
        // AWS managed keys rotate every year, and that can't be turned off.
        rotationEnabled: true,
        rotationPeriodDays: 365,
        nextRotationDate: new Date(now.getTime() + 365 * 86_400_000),
        currentBackingKeyId: backing.backingKeyId,
      },
      backing,
      aliasName,
    );
  };
}
